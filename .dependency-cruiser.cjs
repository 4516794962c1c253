/**
 * helfy's import rules (docs/architecture.md draws the map they keep true). Checked by
 * dependency-cruiser in `npm test` (tests/architecture/rules.test.ts) and by `npm run lint`.
 * Type-only imports count too (tsPreCompilationDeps): a port's types are the only thing an
 * adapter may take from the layer above it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-command-imports-command',
      comment: 'A command is one thin file: parse, call the domain, render. Shared logic goes to a domain folder (src/backup, src/stack, ...), not into another command. Only the registry (commands/index.ts) loads commands; `helfy ci` runs its phases through it (loadCommand), by name, as the CLI would.',
      severity: 'error',
      from: { path: '^src/commands/[^/]+[.]ts$', pathNot: '^src/commands/index[.]ts$' },
      to: { path: '^src/commands/', pathNot: '^src/commands/index[.]ts$' },
    },
    {
      name: 'no-domain-imports-commands',
      comment: 'Only main.ts (through the registry) reaches src/commands: a domain that imports a command inverts the layers.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/commands/', '^src/main[.]ts$'] },
      to: { path: '^src/commands/' },
    },
    {
      name: 'backup-uses-the-port',
      comment: 'src/backup talks to the stack through its BackupRuntime port (StackRuntime.backupRuntime()), never to a concrete runtime.',
      severity: 'error',
      from: { path: '^src/backup/' },
      to: { path: '^src/runtime/(docker|native)/' },
    },
    {
      name: 'stack-reaches-runtime-through-open',
      comment: 'src/stack owns the StackRuntime port; only open.ts chooses and loads an adapter.',
      severity: 'error',
      from: { path: '^src/stack/', pathNot: '^src/stack/open[.]ts$' },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'runtime-stays-below',
      comment: 'An adapter implements the ports; it knows nothing of the commands or of helfy dev.',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: '^src/(commands|dev)/' },
    },
    {
      name: 'runtime-takes-only-the-backup-port',
      comment: 'From src/backup an adapter may use the BackupRuntime port (its types) and nothing else.',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: '^src/backup/', pathNot: '^src/backup/runtime[.]ts$' },
    },
    {
      name: 'adapters-apart',
      comment: 'The Docker and the native adapter never import each other: what both need goes a floor down (src/core, src/runtime/process, src/runtime/tool-run.ts).',
      severity: 'error',
      from: { path: '^src/runtime/(docker|native)/' },
      to: { path: '^src/runtime/(docker|native)/', pathNot: '^src/runtime/$1/' },
    },
    {
      name: 'only-runtime-starts-processes',
      comment: 'Processes and Docker are src/runtime\'s business (child_process, execa, dockerode).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/runtime/' },
      to: { path: ['^(node:)?child_process$', '(^|/)node_modules/(execa|dockerode)/'] },
    },
    {
      name: 'only-db-imports-drivers',
      comment: 'Database drivers (pg, pg-copy-streams, neo4j-driver, drizzle-orm, the Temporal client) are src/db\'s business.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/db/' },
      to: { path: '(^|/)node_modules/(pg|pg-copy-streams|neo4j-driver|drizzle-orm|@temporalio/client)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main', 'types'] },
    reporterOptions: {
      dot: { collapsePattern: '^src/[^/]+|^src/runtime/[^/]+|node_modules/(@[^/]+/)?[^/]+' },
      text: { highlightFocused: true },
    },
  },
};
