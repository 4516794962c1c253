/**
 * The command registry: metadata only. Each command's code is imported when it runs, so
 * `helfy --help` and `helfy --version` load none of it.
 */
import type { CommandModule, CommandSpec } from '../core/command.js';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'init',
    summary: 'Create a helfy workspace: .env with generated secrets, .env.example, helfy.config.json, .gitignore, and the apps (apps/api, apps/web) scaffolded from the templates',
    args: [{ syntax: '[dir]', description: 'folder to initialize (default: the current folder)' }],
    options: [
      { flags: '--name <name>', description: 'project name (docker compose project name)' },
      { flags: '--force', description: 'rewrite an existing workspace (the old .env is kept as a timestamped copy; secrets are kept)' },
      { flags: '--rotate-secrets', description: 'with --force: generate new secrets instead of keeping the existing ones' },
      { flags: '--no-apps', description: 'do not scaffold the apps (apps/api, apps/web); the stack then builds from helfy\'s templates' },
      { flags: '--postgres-port <port>', description: 'host port of PostgreSQL (default 5432)' },
      { flags: '--neo4j-http-port <port>', description: 'host port of Neo4j HTTP (default 7474)' },
      { flags: '--neo4j-bolt-port <port>', description: 'host port of Neo4j Bolt (default 7687)' },
      { flags: '--temporal-port <port>', description: 'host port of Temporal (default 7233)' },
      { flags: '--temporal-ui-port <port>', description: 'host port of the Temporal UI (default 8233)' },
      { flags: '--api-port <port>', description: 'host port of the API (default 3000)' },
      { flags: '--web-port <port>', description: 'host port of the web app (default 3001)' },
      { flags: '--ci <provider>', description: 'also write a CI pipeline that runs `helfy ci`: github (.github/workflows/helfy.yml) or gitlab (.gitlab-ci.yml)', choices: ['github', 'gitlab'] },
      { flags: '--helfy-package <spec>', description: 'with --ci: the npm spec the pipeline installs helfy from (default: this helfy packed into vendor/helfy-<version>.tgz)' },
    ],
    examples: ['helfy init --yes                  # a workspace here: .env with generated secrets, config, apps/', 'helfy init ../shop --api-port 3100 --ci github   # another folder, another API port, a GitHub pipeline'],
    load: () => import('./init.js'),
  },
  {
    name: 'apps',
    summary: 'Compare the workspace apps (apps/api, apps/web) with helfy\'s templates, and update them explicitly',
    subcommands: [
      {
        name: 'diff',
        summary: 'Show what `apps update` would change: a unified diff per file, files the template added or removed, conflicts',
        args: [{ syntax: '[app...]', description: 'api, web (default: both)' }],
        examples: ['helfy apps diff                    # what `apps update` would change in apps/api and apps/web', 'helfy apps diff web                # only the web app'],
        load: () => import('./apps.js').then((m) => m.diff),
      },
      {
        name: 'update',
        summary: 'Update the apps from the templates: shows the diff, asks (--yes), keeps your edits; a conflict gets <file>.template beside it',
        args: [{ syntax: '[app...]', description: 'api, web (default: both)' }],
        options: [{ flags: '--dry-run', description: 'show what would change; write nothing' }],
        examples: ["helfy apps update --yes            # take the templates' changes, keeping your edits"],
        load: () => import('./apps.js').then((m) => m.update),
      },
    ],
  },
  {
    name: 'doctor',
    summary: 'Check this machine: Node, what the runtime needs (Docker engine and compose, or the native servers), free ports and disk, .env and secrets',
    examples: ['helfy doctor                       # what this machine has and lacks for the stack', 'helfy doctor --json                # the same checks as one JSON document'],
    load: () => import('./doctor.js'),
  },
  {
    name: 'migrate',
    summary: 'Apply and inspect migrations: PostgreSQL (drizzle-kit files) and Neo4j (versioned Cypher)',
    subcommands: [
      {
        name: 'up',
        summary: 'Apply pending migrations (each store under its own lock; one transaction per file)',
        options: [
          { flags: '--store <store>', description: 'which store', choices: ['all', 'postgres', 'neo4j'], default: 'all' },
          { flags: '--target <version>', description: 'apply up to this migration (PostgreSQL tag or prefix, Neo4j version); needs --store' },
          { flags: '--dry-run', description: 'show what would be applied; change nothing' },
          { flags: '--force-unlock', description: 'first remove a stale Neo4j migration lock left by a killed run (asks; --yes)' },
        ],
        examples: ['helfy migrate up                   # apply pending PostgreSQL and Neo4j migrations', "helfy migrate up --store neo4j     # only Neo4j's"],
        load: () => import('./migrate.js').then((m) => m.up),
      },
      {
        name: 'status',
        summary: 'List every migration with its state (applied, pending, changed, missing-file)',
        options: [{ flags: '--store <store>', description: 'which store', choices: ['all', 'postgres', 'neo4j'], default: 'all' }],
        examples: ['helfy migrate status               # every migration: applied, pending, changed, missing'],
        load: () => import('./migrate.js').then((m) => m.status),
      },
      {
        name: 'create',
        summary: 'Create a migration: PostgreSQL via drizzle-kit generate from the schema, or a Neo4j Cypher file',
        args: [{ syntax: '<name>', description: 'short name, e.g. add_goals' }],
        options: [
          { flags: '--neo4j', description: 'create the next V<n>__<name>.cypher file instead' },
          { flags: '--custom', description: 'PostgreSQL: an empty file for hand-written SQL (drizzle-kit generate --custom)' },
        ],
        examples: ['helfy migrate create add_sleep     # PostgreSQL: drizzle-kit generate from the schema', 'helfy migrate create routine_index --neo4j   # the next versioned Cypher file'],
        load: () => import('./migrate.js').then((m) => m.create),
      },
      {
        name: 'verify',
        summary: 'Check applied migrations against their files and the live Neo4j schema (drift)',
        options: [{ flags: '--store <store>', description: 'which store', choices: ['all', 'postgres', 'neo4j'], default: 'all' }],
        examples: ['helfy migrate verify               # applied files unchanged, the live Neo4j schema without drift'],
        load: () => import('./migrate.js').then((m) => m.verify),
      },
    ],
  },
  {
    name: 'db',
    summary: 'Database administration',
    subcommands: [
      {
        name: 'bootstrap',
        summary: 'Create roles and databases, the timescaledb extension, the Temporal namespace; apply Neo4j migrations (idempotent)',
        options: [{ flags: '--neo4j-timeout <duration>', description: 'how long to wait for Neo4j Bolt (e.g. 90s, 2m)', default: '120s' }],
        examples: ['helfy db bootstrap                 # roles, databases, TimescaleDB, the namespace (idempotent)'],
        load: () => import('./db.js').then((m) => m.bootstrap),
      },
      {
        name: 'stats',
        summary: 'Per hypertable: rows (approximate), chunks, compressed chunks, size before/after compression; each continuous aggregate and its last refresh',
        examples: ['helfy db stats --json              # hypertables, compression and aggregates as one JSON document'],
        load: () => import('./db.js').then((m) => m.stats),
      },
    ],
  },
  {
    name: 'seed',
    summary: 'Load the exercise/food library into Neo4j and demo users with realistic time series into PostgreSQL (idempotent, safe to kill)',
    options: [
      { flags: '--only <parts>', description: 'comma-separated parts: exercises, foods, routines, demo (default: all)' },
      { flags: '--users <n>', description: 'demo users (demo-001@helfy.test, ...); fewer than before deletes the extra ones (default: 3)' },
      { flags: '--days <n>', description: 'days of demo data per user (default: 90)' },
      { flags: '--seed <s>', description: 'random seed: the same seed gives the same data (default: 1)' },
      { flags: '--last-day <date>', description: 'last day of demo data, YYYY-MM-DD (default: yesterday, UTC)' },
      { flags: '--concurrency <n>', description: 'demo users loaded in parallel, one COPY connection each (default: 2)' },
      { flags: '--reset', description: 'remove the seeded data (demo users, library nodes seed wrote) and nothing else' },
      { flags: '--dry-run', description: 'show what would be loaded or removed; change nothing' },
    ],
    examples: ['helfy seed                         # the library and 3 demo users with 90 days each', 'helfy seed --only demo --users 10 --days 365   # more demo data'],
    load: () => import('./seed.js'),
  },
  {
    name: 'config',
    summary: 'Show the resolved configuration with the source of each value (secrets redacted)',
    examples: ['helfy config                       # every setting with its source (secrets redacted)'],
    load: () => import('./config.js'),
  },
  {
    name: 'up',
    summary: 'Start the stack (or some services) and wait until it is healthy; prints the service URLs',
    args: [{ syntax: '[service...]', description: 'services to start with their dependencies (default: all but optional ones; optional: temporal-ui)' }],
    options: [
      { flags: '--timeout <duration>', description: 'how long to wait for health (e.g. 180s, 5m)', default: '180s' },
      { flags: '--no-wait', description: 'start the containers and return without waiting for health' },
      { flags: '--build', description: 'rebuild the api and web images' },
      { flags: '--pull <policy>', description: 'pull missing images, or never pull (fail when one is missing)', default: 'missing', choices: ['missing', 'never'] },
      { flags: '--seed', description: 'then run `helfy seed` with its defaults (library + demo users; idempotent)' },
    ],
    examples: ['helfy up                           # the whole stack, waiting until it is healthy', 'helfy up postgres neo4j --timeout 5m   # only the data stores'],
    load: () => import('./up.js'),
  },
  {
    name: 'dev',
    summary: 'Run api, worker and web from the workspace sources with live reload (local processes) against the stack\'s data stores, until Ctrl-C',
    args: [{ syntax: '[process...]', description: 'api, worker, web (default: all three)' }],
    options: [
      { flags: '--no-stores', description: 'do not start the data stores in Docker: use the ones at the configured addresses (roles, migrations and the Temporal namespace are still ensured)' },
      { flags: '--timeout <duration>', description: 'how long to wait for the data stores to become healthy', default: '180s' },
    ],
    examples: ['helfy dev                          # api, worker and web with live reload from apps/', 'helfy dev api --no-stores          # only the API, against stores running elsewhere'],
    load: () => import('./dev.js'),
  },
  {
    name: 'down',
    summary: 'Stop and remove the stack\'s containers; with --volumes also its data (asks first)',
    options: [{ flags: '--volumes', description: 'also delete the data volumes (PostgreSQL, Neo4j); asks for confirmation, --yes in CI' }],
    examples: ['helfy down                         # stop the stack, keep its data', 'helfy down --volumes --yes         # stop it and delete its data'],
    load: () => import('./down.js'),
  },
  {
    name: 'status',
    summary: 'Show each service: container state, health, ports, uptime and a live probe (exit 4 when not all healthy)',
    options: [{ flags: '--watch', description: 'refresh every 2 seconds until Ctrl-C' }],
    examples: ["helfy status                       # each service's state, health, ports and probe", 'helfy status --watch               # the same every 2 s until Ctrl-C'],
    load: () => import('./status.js'),
  },
  {
    name: 'logs',
    summary: 'Show the services\' output, prefixed per service',
    args: [{ syntax: '[service...]', description: 'services to show (default: all)' }],
    options: [
      { flags: '-f, --follow', description: 'keep streaming new output until Ctrl-C' },
      { flags: '--since <when>', description: 'only output since a duration ago (10m, 2h) or a date' },
      { flags: '--tail <n>', description: 'only the last n lines of each service' },
    ],
    examples: ['helfy logs api worker --tail 50    # the last 50 lines of two services', 'helfy logs -f                      # follow every service'],
    load: () => import('./logs.js'),
  },
  {
    name: 'smoke',
    summary: 'Prove the running stack works: health, stores, a workflow, the API and web with a throwaway user, security; JUnit report (exit 1 when a check fails, 4 when the stack is not up)',
    options: [
      { flags: '--junit <file>', description: 'write a JUnit XML report (one testcase per check)' },
      { flags: '--only <groups>', description: 'comma-separated groups: health, postgres, neo4j, temporal, api, web, security (plus the checks they need)' },
      { flags: '--timeout <duration>', description: 'timeout of each check', default: '30s' },
      { flags: '--browser', description: 'also load the dashboard in Chromium (playwright-core + Debian chromium) and fail on console errors' },
    ],
    examples: ['helfy smoke                        # prove the running stack works end to end', 'helfy smoke --browser --junit smoke.xml   # with Chromium, and a JUnit report'],
    load: () => import('./smoke.js'),
  },
  {
    name: 'ci',
    summary: 'The CI step: init (if needed) → up → migrate → seed (small) → smoke → down; JUnit report and container logs in an artifacts folder',
    options: [
      { flags: '--artifacts <dir>', description: 'where the JUnit report and logs go (default: <workspace>/.helfy/ci)' },
      { flags: '--keep', description: 'leave the stack running at the end' },
      { flags: '--timeout <duration>', description: 'how long `up` waits for health', default: '300s' },
      { flags: '--smoke-timeout <duration>', description: 'timeout of each smoke check', default: '60s' },
      { flags: '--users <n>', description: 'demo users to seed', default: '1' },
      { flags: '--days <n>', description: 'days of demo data per user', default: '7' },
      { flags: '--browser', description: 'smoke also loads the dashboard in Chromium' },
    ],
    examples: ['helfy ci --artifacts .helfy/ci     # init → up → migrate → seed → smoke → down'],
    load: () => import('./ci.js'),
  },
  {
    name: 'export',
    summary: 'Write the stack for an orchestrator from the same service catalog: Kubernetes manifests (kubectl apply -k) or a Docker Swarm stack file',
    subcommands: [
      {
        name: 'kubernetes',
        summary: 'Plain manifests and a kustomization.yaml: StatefulSets for PostgreSQL and Neo4j, Deployments, Services, the bootstrap, schema and migration Jobs, a Secret from .env',
        options: [
          { flags: '--out <dir>', description: 'the folder to write (created; refused when it holds other files, unless --force)' },
          { flags: '--registry <host/namespace>', description: 'where the api and web images are pulled from', default: 'helfy-local' },
          { flags: '--tag <tag>', description: 'tag of the api and web images', default: 'dev' },
          { flags: '--namespace <name>', description: 'Kubernetes namespace (default: the project name)' },
          { flags: '--secrets <mode>', description: 'embed: a Secret with the .env secrets; external: reference a Secret you create', choices: ['embed', 'external'], default: 'embed' },
          { flags: '--force', description: 'replace an --out folder that holds other files' },
        ],
        examples: ['helfy export kubernetes --out deploy/k8s --registry ghcr.io/acme --tag 1.4.0   # then: kubectl apply -k deploy/k8s', 'helfy export kubernetes --out deploy/k8s --secrets external   # reference an existing Secret helfy-secrets'],
        load: () => import('./export.js').then((m) => m.kubernetes),
      },
      {
        name: 'swarm',
        summary: 'A stack file for docker stack deploy: no build, one-off steps as replicated-job, healthchecks kept, secrets as Docker secrets',
        options: [
          { flags: '--out <dir>', description: 'the folder to write (created; refused when it holds other files, unless --force)' },
          { flags: '--registry <host/namespace>', description: 'where the api and web images are pulled from', default: 'helfy-local' },
          { flags: '--tag <tag>', description: 'tag of the api and web images', default: 'dev' },
          { flags: '--secrets <mode>', description: 'embed: Docker secrets from files beside the stack file; external: secrets you create', choices: ['embed', 'external'], default: 'embed' },
          { flags: '--force', description: 'replace an --out folder that holds other files' },
        ],
        examples: ['helfy export swarm --out deploy/swarm   # then: docker stack deploy -c deploy/swarm/docker-stack.yml helfy'],
        load: () => import('./export.js').then((m) => m.swarm),
      },
    ],
  },
  {
    name: 'deploy',
    summary: 'Deploy the stack to an orchestrator from the export: a Docker Swarm on this engine, or a Kubernetes cluster with kubectl; waits until it is healthy',
    subcommands: [
      {
        name: 'swarm',
        summary: 'Build and tag the app images, docker stack deploy the export, follow the one-off steps, wait until every service is healthy, print the URLs; --remove takes it down',
        options: [
          { flags: '--timeout <duration>', description: 'how long the stack (or --remove) may take to settle; image builds do not count', default: '10m' },
          { flags: '--remove', description: 'take the stack down: services, networks, configs, secrets (volumes stay unless --volumes)' },
          { flags: '--volumes', description: 'with --remove: also delete the stack\'s volumes, i.e. its data (asks; --yes)' },
        ],
        examples: ['helfy deploy swarm                 # build, deploy to the swarm, wait until healthy, print the URLs', 'helfy deploy swarm --remove --volumes --yes   # take it down with its data'],
        load: () => import('./deploy.js').then((m) => m.swarm),
      },
      {
        name: 'kubernetes',
        summary: 'kubectl apply -k the export with the kubectl on PATH, wait for the Jobs and rollouts; --remove deletes it',
        options: [
          { flags: '--registry <host/namespace>', description: 'where the cluster pulls the api and web images from', default: 'helfy-local' },
          { flags: '--tag <tag>', description: 'tag of the api and web images', default: 'dev' },
          { flags: '--namespace <name>', description: 'Kubernetes namespace (default: the project name)' },
          { flags: '--timeout <duration>', description: 'how long the Jobs and rollouts may take', default: '10m' },
          { flags: '--remove', description: 'kubectl delete -k the same objects (the PersistentVolumeClaims too)' },
        ],
        examples: ['helfy deploy kubernetes --registry ghcr.io/acme --tag 1.4.0   # apply, wait for the Jobs and rollouts'],
        load: () => import('./deploy.js').then((m) => m.kubernetes),
      },
    ],
  },
  {
    name: 'backup',
    summary: 'Back up every store as one consistent set (writers stopped, Neo4j dumped offline); list, verify and prune backups',
    options: [
      { flags: '--name <name>', description: 'suffix of the backup id (<UTC timestamp>-<name>)' },
      { flags: '--online', description: 'keep the writers (api, worker, temporal) running; recorded as not consistent across stores' },
    ],
    examples: ['helfy backup --name before-upgrade   # one consistent backup of every store', 'helfy backup list                  # what there is'],
    load: () => import('./backup.js'),
    subcommands: [
      {
        name: 'list',
        summary: 'List the backups: id, date, size, stores, verified, consistent',
        examples: ['helfy backup list                  # id, date, size, stores, verified, consistent'],
        load: () => import('./backup.js').then((m) => m.list),
      },
      {
        name: 'verify',
        summary: 'Check every file against the manifest\'s sha256 and the Neo4j dumps with neo4j-admin database check',
        args: [{ syntax: '<id>', description: 'backup id (or latest)' }],
        options: [{ flags: '--restore-test', description: 'also restore into scratch databases and a scratch Neo4j and compare the figures with the manifest' }],
        examples: ['helfy backup verify latest --restore-test   # checksums, neo4j-admin check, and a scratch restore'],
        load: () => import('./backup.js').then((m) => m.verify),
      },
      {
        name: 'prune',
        summary: 'Delete old backups: keeps the union of the rules and always the newest verified one; removes interrupted .partial folders',
        options: [
          { flags: '--keep-last <n>', description: 'keep the n newest backups' },
          { flags: '--keep-daily <n>', description: 'keep the newest backup of each of the n most recent days that have one' },
          { flags: '--keep-weekly <n>', description: 'keep the newest backup of each of the n most recent ISO weeks that have one' },
          { flags: '--dry-run', description: 'show what would be removed; change nothing' },
        ],
        examples: ['helfy backup prune --keep-last 3 --keep-daily 7 --dry-run   # what would go'],
        load: () => import('./backup.js').then((m) => m.prune),
      },
    ],
  },
  {
    name: 'restore',
    summary: 'Replace the stack\'s data with a backup (asks first; version checks before anything changes); then compares the figures',
    args: [{ syntax: '<id>', description: 'backup id (or latest)' }],
    options: [{ flags: '--only <stores>', description: 'comma-separated stores: postgres, neo4j (default: both)' }],
    examples: ['helfy restore latest               # the newest backup of this project (asks first)', 'helfy restore 20261130T100000Z --only postgres --yes'],
    load: () => import('./restore.js'),
  },
];

/**
 * Loads the module of a command by its path (`['migrate', 'up']`), as the CLI would run it:
 * `helfy ci` runs its phases this way, so no command imports another command's file.
 */
export async function loadCommand<R = unknown>(...path: string[]): Promise<CommandModule<R>> {
  let specs = COMMANDS;
  let spec: CommandSpec | undefined;
  for (const name of path) {
    spec = specs.find((c) => c.name === name);
    specs = spec?.subcommands ?? [];
  }
  if (!spec?.load) throw new Error(`no command ${path.join(' ')}`);
  return (await spec.load()) as CommandModule<R>;
}
