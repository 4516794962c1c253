// Setup file (vitest.config.ts): with coverage on, every process a test starts records its V8
// coverage for tests/coverage/provider.mjs. Set here, at run time, and not in the worker's own start
// environment, so the worker itself (measured by vitest through the inspector) is not recorded twice.
const dir = process.env.HELFY_CHILD_V8_COVERAGE;
if (dir) process.env.NODE_V8_COVERAGE = dir;
