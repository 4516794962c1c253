/**
 * The command registry: metadata only. Each command's code is imported when it runs, so
 * `helfy --help` and `helfy --version` load none of it.
 */
import type { CommandSpec } from '../core/command.js';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'init',
    summary: 'Create a helfy workspace: .env with generated secrets, .env.example, helfy.config.json, .gitignore',
    args: [{ syntax: '[dir]', description: 'folder to initialize (default: the current folder)' }],
    options: [
      { flags: '--name <name>', description: 'project name (docker compose project name)' },
      { flags: '--force', description: 'rewrite an existing workspace (the old .env is kept as a timestamped copy; secrets are kept)' },
      { flags: '--rotate-secrets', description: 'with --force: generate new secrets instead of keeping the existing ones' },
      { flags: '--postgres-port <port>', description: 'host port of PostgreSQL (default 5432)' },
      { flags: '--neo4j-http-port <port>', description: 'host port of Neo4j HTTP (default 7474)' },
      { flags: '--neo4j-bolt-port <port>', description: 'host port of Neo4j Bolt (default 7687)' },
      { flags: '--temporal-port <port>', description: 'host port of Temporal (default 7233)' },
      { flags: '--temporal-ui-port <port>', description: 'host port of the Temporal UI (default 8233)' },
      { flags: '--api-port <port>', description: 'host port of the API (default 3000)' },
      { flags: '--web-port <port>', description: 'host port of the web app (default 3001)' },
    ],
    load: () => import('./init.js'),
  },
  {
    name: 'doctor',
    summary: 'Check this machine: Node, Docker engine and compose, free ports and disk, .env and secrets',
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
        load: () => import('./migrate.js').then((m) => m.up),
      },
      {
        name: 'status',
        summary: 'List every migration with its state (applied, pending, changed, missing-file)',
        options: [{ flags: '--store <store>', description: 'which store', choices: ['all', 'postgres', 'neo4j'], default: 'all' }],
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
        load: () => import('./migrate.js').then((m) => m.create),
      },
      {
        name: 'verify',
        summary: 'Check applied migrations against their files and the live Neo4j schema (drift)',
        options: [{ flags: '--store <store>', description: 'which store', choices: ['all', 'postgres', 'neo4j'], default: 'all' }],
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
        load: () => import('./db.js').then((m) => m.bootstrap),
      },
    ],
  },
  {
    name: 'seed',
    summary: 'Load the exercise/food library into Neo4j and demo users with realistic time series into PostgreSQL (idempotent, safe to kill)',
    options: [
      { flags: '--only <parts>', description: 'comma-separated parts: exercises, foods, routines, demo (default: all)' },
      { flags: '--users <n>', description: 'demo users (demo-001@helfy.test, ...); fewer than before deletes the extra ones', default: '3' },
      { flags: '--days <n>', description: 'days of demo data per user', default: '90' },
      { flags: '--seed <s>', description: 'random seed: the same seed gives the same data', default: '1' },
      { flags: '--last-day <date>', description: 'last day of demo data, YYYY-MM-DD (default: yesterday, UTC)' },
      { flags: '--concurrency <n>', description: 'demo users loaded in parallel, one COPY connection each', default: '2' },
      { flags: '--reset', description: 'remove the seeded data (demo users, library nodes seed wrote) and nothing else' },
      { flags: '--dry-run', description: 'show what would be loaded or removed; change nothing' },
    ],
    load: () => import('./seed.js'),
  },
  {
    name: 'config',
    summary: 'Show the resolved configuration with the source of each value (secrets redacted)',
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
    load: () => import('./up.js'),
  },
  {
    name: 'down',
    summary: 'Stop and remove the stack\'s containers; with --volumes also its data (asks first)',
    options: [{ flags: '--volumes', description: 'also delete the data volumes (PostgreSQL, Neo4j); asks for confirmation, --yes in CI' }],
    load: () => import('./down.js'),
  },
  {
    name: 'status',
    summary: 'Show each service: container state, health, ports, uptime and a live probe (exit 4 when not all healthy)',
    options: [{ flags: '--watch', description: 'refresh every 2 seconds until Ctrl-C' }],
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
    load: () => import('./logs.js'),
  },
];
