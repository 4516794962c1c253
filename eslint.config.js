// helfy's function-length budget, checked by ESLint in `npm test` (tests/architecture/rules.test.ts)
// and by `npm run lint`: no function in src/ over 150 lines (blank lines and comments count, as a
// reader sees them). A function that builds a whole object out of closures is several named
// functions waiting to be split (docs/architecture.md). Only this rule runs: style is not linted.
import tseslint from 'typescript-eslint';

export const FUNCTION_LINES_MAX = 150;

export default [
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error', noInlineConfig: true },
    rules: {
      'max-lines-per-function': ['error', { max: FUNCTION_LINES_MAX, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
];
