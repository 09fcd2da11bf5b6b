// Lint rules, including the import boundaries of DESIGN §2: db/ imports nothing from services/ or
// adapters/; adapters import only services/shared and adapters/sdk; domain code knows no express,
// amqplib or mysql2; only main.ts files touch the container and the environment.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'web/dist/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'tsyringe', importNames: ['container'], message: 'Only main.ts files use the container.' }] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment through services/shared/config.ts.' },
      ],
    },
  },
  {
    files: ['**/main.ts', 'services/shared/config.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['db/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/services/**', '**/adapters/**'] }] },
  },
  {
    files: ['adapters/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['**/db/**', '**/services/ingest/**', '**/services/api/**', '**/services/audit-shipper/**'],
          paths: [{ name: 'tsyringe', importNames: ['container'], message: 'Only main.ts files use the container.' }],
        },
      ],
    },
  },
  {
    files: ['services/*/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['express', 'express/*', 'amqplib', 'amqplib/*', 'mysql2', 'mysql2/*', '**/db/src/pool'],
          paths: [{ name: 'tsyringe', importNames: ['container'], message: 'Only main.ts files use the container.' }],
        },
      ],
    },
  },
);
