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
    name: 'config',
    summary: 'Show the resolved configuration with the source of each value (secrets redacted)',
    load: () => import('./config.js'),
  },
];
