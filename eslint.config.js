// ESLint (flat config) for the TypeScript and JavaScript sources. Correctness rules only:
// layout is Prettier's job (.prettierrc.json), so no stylistic rule is enabled here.
import { globals, js, tseslint } from './scripts/lint/index.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-check/',
      'build/',
      'build-*/',
      'prebuilds/',
      'bench/out/',
      // Local experiments, not in the repository (.gitignore).
      'scratch/',
      '**/node_modules/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.node,
    },
    rules: {
      // A leading underscore marks a name kept on purpose (a slot in a signature, a key dropped
      // from a rest spread); a rest sibling omits its key by being named.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
);
