/**
 * A tiny YAML emitter for the compose file: maps, lists, strings, numbers and booleans only.
 * Every string is double-quoted (JSON escaping is valid YAML), so values such as `no`, `1.0`
 * or `${VAR:-x}` can never be re-typed by a YAML parser. Keys are emitted bare when safe.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [k: string]: YamlValue | undefined };

const BARE_KEY = /^[A-Za-z0-9_.\/-]+$/;

function key(k: string): string {
  return BARE_KEY.test(k) && !/^(y|n|yes|no|true|false|on|off|null|~)$/i.test(k) ? k : JSON.stringify(k);
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Multi-line strings become literal blocks (`|-`) when that round-trips exactly. */
function isBlock(v: YamlValue): v is string {
  return typeof v === 'string' && v.includes('\n') && !/(^\s|\s$|[ \t]\n|\t|\r)/.test(v);
}

function block(v: string, indent: number): string[] {
  return ['|-', ...v.split('\n').map((l) => (l ? `${' '.repeat(indent)}${l}` : ''))];
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function emit(v: YamlValue, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isBlock(item)) {
        const [head, ...rest] = block(item, indent + 2);
        out.push(`${pad}- ${head}`, ...rest);
      } else if (isScalar(item)) out.push(`${pad}- ${scalar(item)}`);
      else if (Array.isArray(item)) {
        out.push(`${pad}-`);
        emit(item, indent + 2, out);
      } else {
        const inner: string[] = [];
        emit(item, indent + 2, inner);
        // First key on the dash line.
        out.push(`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
      }
    }
    return;
  }
  if (isScalar(v)) throw new Error('emit() expects a container at the top level');
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue;
    if (isBlock(val)) {
      const [head, ...rest] = block(val, indent + 2);
      out.push(`${pad}${key(k)}: ${head}`, ...rest);
    } else if (isScalar(val)) out.push(`${pad}${key(k)}: ${scalar(val)}`);
    else if (Array.isArray(val) && val.length === 0) out.push(`${pad}${key(k)}: []`);
    else if (!Array.isArray(val) && Object.keys(val).filter((x) => val[x] !== undefined).length === 0) out.push(`${pad}${key(k)}: {}`);
    else {
      out.push(`${pad}${key(k)}:`);
      emit(val, indent + 2, out);
    }
  }
}

/** Serialises a map to YAML text (ending with a newline). */
export function toYaml(doc: { [k: string]: YamlValue | undefined }): string {
  const out: string[] = [];
  emit(doc, 0, out);
  return `${out.join('\n')}\n`;
}
