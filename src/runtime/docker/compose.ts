/**
 * Docker compose through execa: the v2 plugin (`docker compose`) or the standalone v1
 * (`docker-compose`), detected once per process.
 */
import { HelfyError } from '../../core/errors.js';

export interface ComposeCommand {
  /** `v2` for the docker CLI plugin, `v1` for the standalone docker-compose. */
  flavor: 'v1' | 'v2';
  version: string;
  /** argv prefix: ['docker', 'compose'] or ['docker-compose']. */
  argv: [string, ...string[]];
}

let detected: Promise<ComposeCommand> | undefined;

/** Extracts a version number from `docker compose version --short` / `docker-compose version --short` output. */
export function parseComposeVersion(out: string): string | undefined {
  return /v?(\d+\.\d+\.\d+[\w.+-]*)/.exec(out.trim())?.[1];
}

export async function detectCompose(env: NodeJS.ProcessEnv): Promise<ComposeCommand> {
  detected ??= (async () => {
    const { execa } = await import('execa');
    const attempts: ComposeCommand['argv'][] = env.HELFY_COMPOSE === 'v1' ? [['docker-compose']] : env.HELFY_COMPOSE === 'v2' ? [['docker', 'compose']] : [['docker', 'compose'], ['docker-compose']];
    for (const argv of attempts) {
      const [file, ...rest] = argv;
      const r = await execa(file, [...rest, 'version', '--short'], { env, reject: false, timeout: 5000, stdin: 'ignore' });
      const version = r.exitCode === 0 ? parseComposeVersion(String(r.stdout)) : undefined;
      if (version) return { flavor: argv.length === 2 ? 'v2' : 'v1', version, argv };
    }
    throw new HelfyError('COMPOSE_MISSING', 'docker compose is not available (neither `docker compose` nor `docker-compose` answered)', {
      hint: 'Install the Docker Compose v2 plugin (or docker-compose v1), then run `helfy doctor`.',
    });
  })();
  return detected;
}

/** Where the docker CLI is, without running it (PATH lookup). */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
