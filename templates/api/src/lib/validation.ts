/**
 * zod validation failures as 400 `{ error: { code: 'VALIDATION', message, details } }`, naming the
 * field — and, once validation passed, the one check no route schema repeats: no string of the
 * input (body, query or path parameter; value or key, at any depth) may hold U+0000. PostgreSQL
 * stores no NUL in text or jsonb (it would be a 500), and no legitimate input needs one.
 */
import type { Hook } from '@hono/zod-openapi';

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

export const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';

export function fieldOf(issue: Issue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) path.push(issue.keys[0]!);
  return path.length ? path.join('.') : '(body)';
}

export function describeIssues(issues: Issue[], target: string) {
  const details = issues.slice(0, 20).map((i) => ({ field: fieldOf(i), message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message }));
  const first = details[0]!;
  return { message: `${target === 'json' ? '' : `${target} `}${first.field}: ${first.message}`, details };
}

/** The path of the first string (value or object key) holding U+0000 in parsed input, or undefined. */
export function findNul(value: unknown): PropertyKey[] | undefined {
  const path: PropertyKey[] = [];
  return hasNul(value, path) ? path : undefined;
}

/** Depth-first; `path` is one array pushed and popped (a 10,000-point batch allocates nothing per point). */
function hasNul(value: unknown, path: PropertyKey[]): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      if (hasNul(value[i], path)) return true;
      path.pop();
    }
    return false;
  }
  for (const k of Object.keys(value)) {
    path.push(k);
    if (k.includes('\0') || hasNul((value as Record<string, unknown>)[k], path)) return true;
    path.pop();
  }
  return false;
}

/** The defaultHook of the app: every route's request schemas (json, query, param) pass through it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  const r = result as unknown as { success: boolean; data?: unknown; error?: { issues: Issue[] }; target: string };
  const issues = r.success ? nulIssues(r.data) : r.error!.issues;
  if (issues.length) {
    const { message, details } = describeIssues(issues, r.target);
    return c.json({ error: { code: 'VALIDATION', message, details } }, 400);
  }
};

function nulIssues(data: unknown): Issue[] {
  const path = findNul(data);
  return path ? [{ path, message: NUL_MESSAGE }] : [];
}
