// ESLint flat config: type-aware TypeScript rules, no floating promises, no import cycles,
// and the layer rule (imports only point down: language <- interpreter <- runtime <- surfaces).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const layer = (target, forbidden) => ({
  target: `./src/${target}`,
  from: forbidden.map((f) => `./src/${f}`),
  message: `the ${target} layer may not import from a higher layer`,
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            layer('language', ['interpreter', 'runtime', 'surfaces']),
            layer('interpreter', ['runtime', 'surfaces']),
            layer('runtime', ['surfaces']),
          ],
        },
      ],
    },
  },
  {
    // The web console: browser code, type-checked against console/tsconfig.json (DOM lib).
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { window: 'readonly', document: 'readonly', location: 'readonly', history: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
);
