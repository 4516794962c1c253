/**
 * `helfy apps diff|update [app...]`: bring the workspace copies of the apps (apps/api, apps/web)
 * up to date with the templates of this helfy, explicitly. `diff` shows what `update` would do;
 * `update` shows it too, asks (--yes when not interactive), then writes. A file edited here that
 * the template also changed is a conflict: kept as it is, the template's version written beside
 * it as `<file>.template`.
 */
import { relative } from 'node:path';
import { APPS, type AppName, templateAppDir } from '../config/apps.js';
import { requireWorkspace } from '../config/load.js';
import type { CommandInput, CommandModule } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';

export interface AppReport {
  app: AppName;
  /** `scaffolded`: compared with the template; `not-scaffolded`: builds from the bundled template. */
  state: 'scaffolded' | 'not-scaffolded' | 'foreign';
  dir: string;
  upToDate: boolean;
  changes: { path: string; kind: string; reason: string; diff: string; templateCopy?: string }[];
  alreadyCurrent: string[];
}

export interface AppsResult {
  status: 'diff' | 'up-to-date' | 'dry-run' | 'updated';
  root: string;
  apps: AppReport[];
  /** Counts over all apps. */
  summary: { add: number; update: number; delete: number; conflict: number };
}

function appsOf(input: CommandInput): AppName[] {
  const asked = (input.args[0] as string[] | undefined) ?? [];
  for (const a of asked) {
    if (!(APPS as readonly string[]).includes(a)) throw new HelfyError('USAGE', `unknown app ${JSON.stringify(a)}`, { hint: `Apps: ${APPS.join(', ')}.` });
  }
  return asked.length ? [...new Set(asked as AppName[])] : [...APPS];
}

async function plan(ctx: Context, input: CommandInput) {
  const root = requireWorkspace(ctx.options.cwd);
  const { readManifest } = await import('../scaffold/manifest.js');
  const { inspectApp } = await import('../scaffold/scaffold.js');
  const { planUpdate, isUpToDate } = await import('../scaffold/update.js');
  const manifest = readManifest(root);
  const reports: AppReport[] = [];
  const plans: import('../scaffold/update.js').UpdatePlan[] = [];
  for (const app of appsOf(input)) {
    const st = inspectApp(root, app, manifest);
    const base = manifest.apps[app];
    if (st.state !== 'scaffolded' || !base) {
      reports.push({ app, state: st.state === 'foreign' ? 'foreign' : 'not-scaffolded', dir: st.dir, upToDate: true, changes: [], alreadyCurrent: [] });
      continue;
    }
    const p = planUpdate(root, app, base, templateAppDir(app));
    plans.push(p);
    reports.push({ app, state: 'scaffolded', dir: p.dir, upToDate: isUpToDate(p, base), changes: p.changes, alreadyCurrent: p.alreadyCurrent });
  }
  const summary = { add: 0, update: 0, delete: 0, conflict: 0 };
  for (const r of reports) for (const c of r.changes) summary[c.kind as keyof typeof summary]++;
  return { root, manifest, reports, plans, summary };
}

function describe(ctx: Context, root: string, reports: AppReport[]): void {
  const diffs: string[] = [];
  for (const r of reports) {
    const rel = relative(root, r.dir) || r.dir;
    if (r.state === 'not-scaffolded') ctx.log.info(`${r.app}: not scaffolded (${rel} absent; the stack builds from helfy's bundled template). \`helfy init --force\` scaffolds it.`);
    else if (r.state === 'foreign') ctx.log.warn(`${r.app}: ${rel} is not a helfy scaffold (no record in apps/.helfy-scaffold.json); left alone.`);
    else if (!r.changes.length) ctx.log.info(`${r.app}: up to date with the template${r.alreadyCurrent.length ? ` (${r.alreadyCurrent.length} file(s) already match it)` : ''}.`);
    else {
      ctx.log.info(`${r.app}: ${r.changes.length} file(s) differ from the template:`);
      for (const c of r.changes) ctx.log.info(`  ${c.kind.padEnd(8)} ${rel}/${c.path}  (${c.reason})`);
      diffs.push(...r.changes.map((c) => c.diff));
    }
  }
  // The diffs are the result (stdout, like git diff); the listing above is prose (stderr).
  if (!ctx.options.json && diffs.length) ctx.stdout(diffs.join('').replace(/\n$/, ''));
}

export const diff: CommandModule<AppsResult> = {
  async run(ctx, input) {
    const { root, reports, summary } = await plan(ctx, input);
    describe(ctx, root, reports);
    return { status: reports.every((r) => r.upToDate) ? 'up-to-date' : 'diff', root, apps: reports, summary };
  },
};

export const update: CommandModule<AppsResult> = {
  async run(ctx, input) {
    const dryRun = Boolean(input.opts.dryRun);
    const { root, manifest, reports, plans, summary } = await plan(ctx, input);
    describe(ctx, root, reports);
    const pending = plans.filter((p) => !reports.find((r) => r.app === p.app)!.upToDate);
    if (!pending.length) return { status: 'up-to-date', root, apps: reports, summary };
    if (dryRun) {
      ctx.log.info('Dry run: nothing written.');
      return { status: 'dry-run', root, apps: reports, summary };
    }
    const writes = summary.add + summary.update + summary.delete;
    const ok = await ctx.prompt.confirm({
      message: `Apply ${writes} change(s)${summary.conflict ? ` and write ${summary.conflict} conflict(s) beside their files as *.template` : ''} to ${pending.map((p) => `apps/${p.app}`).join(', ')}?`,
      flag: '--yes',
    });
    if (!ok) throw new HelfyError('USAGE', 'update cancelled; nothing was written', { hint: 'Run `helfy apps update` again and confirm, or pass --yes.' });
    const { applyUpdate } = await import('../scaffold/update.js');
    const { writeManifest } = await import('../scaffold/manifest.js');
    const late: string[] = [];
    for (const p of pending) {
      late.push(...(await applyUpdate(p)).map((path) => `apps/${p.app}/${path}`));
      manifest.apps[p.app] = p.record;
      await writeManifest(root, manifest);
    }
    if (late.length) {
      // Edited while the prompt waited: kept, not overwritten (applyUpdate made them conflicts).
      ctx.log.warn(`${late.length} file(s) changed since the plan above and were left as they are: ${late.join(', ')}`);
      for (const k of Object.keys(summary) as (keyof typeof summary)[]) summary[k] = 0;
      for (const r of reports) for (const c of r.changes) summary[c.kind as keyof typeof summary]++;
    }
    const written = summary.add + summary.update + summary.delete;
    for (const r of reports) {
      for (const c of r.changes.filter((x) => x.kind === 'conflict')) {
        ctx.log.warn(`conflict: apps/${r.app}/${c.path} ${c.reason}; kept yours${c.templateCopy ? `, the template's version is in apps/${r.app}/${c.templateCopy}` : ''}. Merge by hand.`);
      }
    }
    ctx.log.success(`Updated ${pending.map((p) => `apps/${p.app}`).join(', ')} from the templates (${written} file(s) written, ${summary.conflict} conflict(s)).`);
    return { status: 'updated', root, apps: reports, summary };
  },
};
