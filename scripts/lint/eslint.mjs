#!/usr/bin/env node
// Runs this package's ESLint (9, flat config) with the given arguments. The root node_modules also
// holds an older ESLint brought in by a dependency, so `npx eslint` would pick the wrong one: the
// binary is taken from this package's own node_modules, which `npm run lint:install` fills.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, 'node_modules', 'eslint', 'bin', 'eslint.js');
if (!existsSync(bin)) {
  console.error(`lint: ${bin} is missing: run \`npm run lint:install\` first`);
  process.exit(2);
}
const run = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
