/** `helfy init [dir]`: create a workspace (config file, .env with generated secrets, .env.example, .gitignore). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { CONFIG_FILE, ENV_FILE, readConfigFile, readDotenvFile } from '../config/load.js';
import { generateSecret, SECRET_KEYS } from '../config/secrets.js';
import { PROJECT_NAME_RE, SETTINGS, schemaFor, type Setting } from '../config/settings.js';
import {
  assertWritableDir, backupEnv, mergedGitignore, projectNameFrom, renderConfigFile, renderEnv, renderEnvExample,
  writeFilesAtomically, type PlannedFile,
} from '../config/workspace.js';

/** Port flags of `init`, the setting each fills and its key in helfy.config.json's `ports`. */
const PORT_FLAGS = [
  { opt: 'postgresPort', flag: '--postgres-port', env: 'HELFY_POSTGRES_PORT', key: 'postgres' },
  { opt: 'neo4jHttpPort', flag: '--neo4j-http-port', env: 'HELFY_NEO4J_HTTP_PORT', key: 'neo4jHttp' },
  { opt: 'neo4jBoltPort', flag: '--neo4j-bolt-port', env: 'HELFY_NEO4J_BOLT_PORT', key: 'neo4jBolt' },
  { opt: 'temporalPort', flag: '--temporal-port', env: 'HELFY_TEMPORAL_PORT', key: 'temporal' },
  { opt: 'temporalUiPort', flag: '--temporal-ui-port', env: 'HELFY_TEMPORAL_UI_PORT', key: 'temporalUi' },
  { opt: 'apiPort', flag: '--api-port', env: 'HELFY_API_PORT', key: 'api' },
  { opt: 'webPort', flag: '--web-port', env: 'HELFY_WEB_PORT', key: 'web' },
] as const;

export interface InitResult {
  status: 'created' | 'already-initialized' | 'rewritten';
  root: string;
  projectName: string;
  files: string[];
  ports: Record<string, number>;
  /** Names (never values) of the secrets that were generated. */
  generatedSecrets: string[];
  keptSecrets: string[];
  envBackup?: string;
}

const setting = (env: string) => (SETTINGS as readonly Setting[]).find((s) => s.env === env)!;

function validatePort(flag: string, env: string, raw: string): number {
  const r = schemaFor(setting(env)).safeParse(raw);
  if (!r.success) throw new HelfyError('USAGE', `${flag} ${env}: ${r.error.issues[0]?.message}, got ${JSON.stringify(raw)}`, { hint: 'Ports are whole numbers from 1 to 65535.' });
  return r.data as number;
}

export async function run(ctx: Context, input: CommandInput): Promise<InitResult> {
  const opts = input.opts as Record<string, string | boolean | undefined>;
  const root = resolve(ctx.options.cwd, (input.args[0] as string | undefined) ?? '.');
  const force = Boolean(opts.force);
  const rotate = Boolean(opts.rotateSecrets);
  if (rotate && !force) throw new HelfyError('USAGE', '--rotate-secrets only makes sense with --force', { hint: 'Run `helfy init --force --rotate-secrets`.' });

  await assertWritableDir(root);
  const initialized = existsSync(join(root, CONFIG_FILE));
  if (initialized && !force) {
    ctx.log.info(`${root} is already initialized; nothing changed (use --force to rewrite it).`);
    const file = readConfigFile(root);
    return { status: 'already-initialized', root, projectName: String(file.name ?? ''), files: [], ports: (file.ports ?? {}) as Record<string, number>, generatedSecrets: [], keptSecrets: [] };
  }

  // Everything we will ask is asked here, before any file is touched.
  const previous = initialized ? readConfigFile(root) : {};
  const prevPorts = (previous.ports ?? {}) as Record<string, number>;
  const needsAnswers = !opts.name && !ctx.options.yes && !initialized;
  if (needsAnswers && !ctx.prompt.interactive) {
    throw new HelfyError('NOT_INTERACTIVE', 'helfy init needs answers (project name, ports) but cannot prompt here', {
      hint: 'Pass --yes to accept the defaults, or --name <name> (and --<service>-port flags).',
    });
  }

  const validateName = (v: string) => (PROJECT_NAME_RE.test(v) && v.length <= 63 ? true : 'lowercase letters, digits, - and _, starting with a letter or digit');
  let projectName = (opts.name as string | undefined) ?? (typeof previous.name === 'string' ? previous.name : projectNameFrom(root));
  if (opts.name !== undefined && validateName(projectName) !== true) {
    throw new HelfyError('USAGE', `--name ${JSON.stringify(projectName)} is not a valid project name`, { hint: `Use ${validateName('')}.` });
  }
  if (needsAnswers) projectName = await ctx.prompt.input({ message: 'Project name', default: projectName, flag: '--name', validate: validateName });

  const ports: Record<string, number> = {};
  for (const p of PORT_FLAGS) {
    const given = opts[p.opt] as string | undefined;
    ports[p.key] = given !== undefined ? validatePort(p.flag, p.env, given) : (prevPorts[p.key] ?? Number(setting(p.env).default));
  }
  if (needsAnswers && (await ctx.prompt.confirm({ message: 'Change the default host ports?', default: false, flag: '--<service>-port' }))) {
    for (const p of PORT_FLAGS) {
      if (opts[p.opt] !== undefined) continue;
      const answer = await ctx.prompt.input({
        message: `Host port for ${p.key}`, default: String(ports[p.key]), flag: p.flag,
        validate: (v) => (schemaFor(setting(p.env)).safeParse(v).success ? true : 'a port 1-65535'),
      });
      ports[p.key] = Number(answer);
    }
  }
  const byPort = new Map<number, string>();
  for (const p of PORT_FLAGS) {
    const other = byPort.get(ports[p.key]!);
    if (other) throw new HelfyError('USAGE', `${p.env} and ${other} both use port ${ports[p.key]}`, { hint: 'Give every service its own host port.' });
    byPort.set(ports[p.key]!, p.env);
  }

  // Secrets: keep the existing ones unless rotating.
  const oldEnv = initialized || existsSync(join(root, ENV_FILE)) ? readDotenvFile(root) : new Map<string, { value: string; line: number }>();
  const envValues: Record<string, string> = {};
  const generatedSecrets: string[] = [];
  const keptSecrets: string[] = [];
  for (const key of SECRET_KEYS) {
    const old = oldEnv.get(key)?.value;
    if (old && !rotate) { envValues[key] = old; keptSecrets.push(key); }
    else { envValues[key] = generateSecret(); generatedSecrets.push(key); }
  }
  // Other keys the user had in .env are kept as they were.
  for (const [k, v] of oldEnv) if (!(k in envValues)) envValues[k] = v.value;

  const configFile = { ...previous, name: projectName, ports };
  const files: PlannedFile[] = [
    { name: CONFIG_FILE, content: renderConfigFile(configFile), mode: 0o644 },
    { name: '.env.example', content: renderEnvExample(), mode: 0o644 },
    { name: ENV_FILE, content: renderEnv(envValues), mode: 0o600 },
  ];
  const gitignore = await mergedGitignore(root);
  if (gitignore !== undefined) files.push({ name: '.gitignore', content: gitignore, mode: 0o644 });

  const envBackup = initialized || oldEnv.size > 0 ? await backupEnv(root) : undefined;
  await writeFilesAtomically(root, files);

  const status = initialized ? 'rewritten' : 'created';
  ctx.log.success(`${status === 'created' ? 'Initialized' : 'Rewrote'} helfy workspace "${projectName}" in ${root}`);
  if (envBackup) ctx.log.info(`Previous .env kept as ${envBackup}`);
  if (generatedSecrets.length) ctx.log.info(`Generated ${generatedSecrets.length} secret(s) in .env (mode 0600); they are never printed.`);
  ctx.log.info('Next: `helfy doctor` to check this machine, then `helfy up`.');
  return { status, root, projectName, files: files.map((f) => f.name), ports, generatedSecrets, keptSecrets, ...(envBackup ? { envBackup } : {}) };
}
