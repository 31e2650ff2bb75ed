// The linter's configuration pieces, re-exported from here so that eslint.config.js (at the
// repository root) resolves them beside TypeScript 5 (see package.json: why this is its own package).
export { default as js } from '@eslint/js';
export { default as tseslint } from 'typescript-eslint';
export { default as globals } from 'globals';
