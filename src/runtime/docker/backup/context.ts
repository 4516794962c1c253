/**
 * What every part of the Docker backup runtime works with: its options, the docker CLI to run and
 * the tools' environment. Built once per runtime by dockerBackupContext.
 */
export interface DockerBackupOptions {
  env: NodeJS.ProcessEnv;
  project: string;
  /** PostgreSQL superuser (and its password, passed to the tools via the exec environment only). */
  pgUser: string;
  pgPassword: string;
}

export interface DockerBackupContext {
  /** The environment of the engine connection and of the docker CLI (DOCKER_HOST, …). */
  env: NodeJS.ProcessEnv;
  project: string;
  /** The docker CLI (`$DOCKER` or `docker`). */
  dockerBin: string;
  /** The CLI's environment for the tools: `env` plus PGPASSWORD / PGUSER, which `-e NAME` passes on. */
  toolEnv: Record<string, string | undefined>;
}

export function dockerBackupContext(o: DockerBackupOptions): DockerBackupContext {
  return {
    env: o.env,
    project: o.project,
    dockerBin: o.env.DOCKER ?? 'docker',
    toolEnv: { ...o.env, PGPASSWORD: o.pgPassword, PGUSER: o.pgUser },
  };
}
