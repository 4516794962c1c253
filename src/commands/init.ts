/**
 * `helfy init [dir]`: create a workspace (config file, .env with generated secrets, .env.example,
 * .gitignore) and scaffold the apps into it (apps/api, apps/web; not with --no-apps). An app that
 * is already scaffolded is kept as it is, also with --force; updating it from the template is
 * `helfy apps update`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { APPS, type AppName } from '../config/apps.js';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { CONFIG_FILE, ENV_FILE, readConfigFile, readDotenvFile } from '../config/load.js';
import { generateSecret, SECRET_KEYS } from '../config/secrets.js';
import { PROJECT_NAME_RE, SETTINGS, schemaFor, type Setting } from '../config/settings.js';
import {
  APPS_GITIGNORE_ENTRIES, assertWritableDir, backupEnv, GITIGNORE_ENTRIES, mergedGitignore, projectNameFrom, renderConfigFile, renderEnv, renderEnvExample,
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
  /** Per app: scaffolded now, kept (already there: never overwritten), absent, or skipped (--no-apps). */
  apps: { app: AppName; dir: string; status: 'scaffolded' | 'kept' | 'absent' | 'skipped'; files?: number; templateHash?: string }[];
  /** With --ci: the pipeline file written (changed: false when it already had this content). */
  pipeline?: { provider: string; file: string; changed: boolean; helfyPackage: string };
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

  const withApps = opts.apps !== false;

  // --ci: the provider and a clash with an existing pipeline file are checked before anything is written.
  const ciProvider = opts.ci as string | undefined;
  const writePipeline = await pipelineStep(ctx, root, ciProvider, { force, helfyPackage: opts.helfyPackage as string | undefined });

  await assertWritableDir(root);
  const initialized = existsSync(join(root, CONFIG_FILE));
  // The apps are checked before anything is written: a target holding unrelated files is refused.
  const scaffold = withApps ? await import('../scaffold/scaffold.js') : undefined;
  const manifest = withApps ? (await import('../scaffold/manifest.js')).readManifest(root) : undefined;
  const appStates = scaffold && manifest ? APPS.map((app) => scaffold.inspectApp(root, app, manifest)) : [];
  if (initialized && !force) {
    ctx.log.info(`${root} is already initialized; nothing changed (use --force to rewrite it).`);
    const absent = appStates.filter((s) => s.state === 'absent').map((s) => s.app);
    if (absent.length) ctx.log.info(`Not scaffolded: ${absent.map((a) => `apps/${a}`).join(', ')} (the stack builds from helfy's templates); \`helfy init --force\` adds ${absent.length > 1 ? 'them' : 'it'} and keeps everything else.`);
    const file = readConfigFile(root);
    const apps = appStates.map((s) => ({ app: s.app, dir: s.dir, status: s.state === 'scaffolded' ? 'kept' as const : 'absent' as const }));
    const pipeline = await writePipeline();
    return { status: 'already-initialized', root, projectName: String(file.name ?? ''), files: [], ports: (file.ports ?? {}) as Record<string, number>, generatedSecrets: [], keptSecrets: [], apps, ...(pipeline ? { pipeline } : {}) };
  }
  if (scaffold) scaffold.assertNoForeign(appStates, root);

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
    // A flag, else the environment (what every other command reads first, so init records what
    // they would use), else what the workspace had, else the default.
    const given = opts[p.opt] as string | undefined;
    const fromEnv = ctx.env[p.env];
    ports[p.key] = given !== undefined
      ? validatePort(p.flag, p.env, given)
      : fromEnv !== undefined && fromEnv !== ''
        ? validatePort('environment variable', p.env, fromEnv)
        : (prevPorts[p.key] ?? Number(setting(p.env).default));
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
  // --ci makes the workspace an npm package (helfy as a devDependency): its node_modules stays out of git.
  const gitignore = await mergedGitignore(root, [...new Set([...GITIGNORE_ENTRIES, ...(withApps ? APPS_GITIGNORE_ENTRIES : []), ...(ciProvider !== undefined ? ['node_modules/'] : [])])]);
  if (gitignore !== undefined) files.push({ name: '.gitignore', content: gitignore, mode: 0o644 });

  // Apps: copied into temporary folders first, moved into place once the workspace files are.
  const prepared: import('../scaffold/scaffold.js').PreparedApp[] = [];
  if (scaffold) {
    try {
      for (const s of appStates) if (s.state === 'absent') prepared.push(await scaffold.prepareApp(root, s.app));
    } catch (e) {
      await scaffold.discardApps(prepared);
      throw e;
    }
  }

  let envBackup: string | undefined;
  try {
    envBackup = initialized || oldEnv.size > 0 ? await backupEnv(root) : undefined;
    await writeFilesAtomically(root, files);
  } catch (e) {
    if (scaffold) await scaffold.discardApps(prepared);
    throw e;
  }
  if (scaffold && manifest && prepared.length) {
    await scaffold.commitApps(prepared);
    for (const p of prepared) manifest.apps[p.app] = p.record;
    await (await import('../scaffold/manifest.js')).writeManifest(root, manifest);
  }
  const apps: InitResult['apps'] = withApps
    ? appStates.map((s) => {
        const p = prepared.find((x) => x.app === s.app);
        return p ? { app: s.app, dir: s.dir, status: 'scaffolded' as const, files: Object.keys(p.record.files).length, templateHash: p.record.templateHash } : { app: s.app, dir: s.dir, status: 'kept' as const };
      })
    : APPS.map((app) => ({ app, dir: join(root, 'apps', app), status: 'skipped' as const }));

  const status = initialized ? 'rewritten' : 'created';
  ctx.log.success(`${status === 'created' ? 'Initialized' : 'Rewrote'} helfy workspace "${projectName}" in ${root}`);
  if (envBackup) ctx.log.info(`Previous .env kept as ${envBackup}`);
  if (generatedSecrets.length) ctx.log.info(`Generated ${generatedSecrets.length} secret(s) in .env (mode 0600); they are never printed.`);
  for (const a of apps) {
    if (a.status === 'scaffolded') ctx.log.info(`Scaffolded apps/${a.app} (${a.files} files from helfy's template): yours to edit; the stack builds from it.`);
    else if (a.status === 'kept') ctx.log.info(`Kept apps/${a.app} as it is (\`helfy apps diff\` shows what the template would change).`);
  }
  const pipeline = await writePipeline();
  ctx.log.info('Next: `helfy doctor` to check this machine, then `helfy up`.');
  return { status, root, projectName, files: files.map((f) => f.name), ports, generatedSecrets, keptSecrets, ...(envBackup ? { envBackup } : {}), apps, ...(pipeline ? { pipeline } : {}) };
}

/**
 * With --ci: checks the provider and the pipeline file now (before anything is written) and
 * returns the step that makes helfy installable by the pipeline and writes it; without: a no-op.
 */
async function pipelineStep(ctx: Context, root: string, provider: string | undefined, o: { force: boolean; helfyPackage?: string }): Promise<() => Promise<InitResult['pipeline']>> {
  if (o.helfyPackage !== undefined && provider === undefined) throw new HelfyError('USAGE', '--helfy-package only makes sense with --ci', { hint: 'Run `helfy init --ci github --helfy-package <spec>`.' });
  if (provider === undefined) return async () => undefined;
  const ci = await import('../ci/pipeline.js');
  ci.assertPipelineWritable(root, provider, { force: o.force });
  return async () => {
    const { PACKAGE_ROOT } = await import('../config/paths.js');
    const pkg = await ci.installHelfy(root, { packageRoot: PACKAGE_ROOT, ...(o.helfyPackage ? { helfyPackage: String(o.helfyPackage) } : {}) });
    ctx.log.info(`package.json: helfy ${pkg.helfy} as a devDependency${pkg.tarball ? ` (commit ${ci.VENDOR_DIR}/ with the workspace: the pipeline installs helfy from it)` : ''}`);
    return { ...reportPipeline(ctx, ci.writePipeline(root, provider, { force: o.force })), helfyPackage: pkg.helfy };
  };
}

function reportPipeline(ctx: Context, w: { provider: string; file: string; changed: boolean }): { provider: string; file: string; changed: boolean } {
  ctx.log.info(w.changed ? `Wrote the ${w.provider} pipeline ${w.file} (runs \`helfy ci\`, uploads the JUnit report and logs).` : `${w.file} is already up to date.`);
  return w;
}
