import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

/** The roles never import each other: they meet only through protocol/ messages. */
const ROLES = ['principal', 'an', 'ki'];
/** A relative import of another top-level folder, from a file `depth` folders below src/. */
const crossFolder = (depth) => `^${'\\.\\./'.repeat(depth)}`;
/**
 * Each folder's index.ts is its surface: from outside, `../store` and not `../store/db`. The
 * composition roots (main.ts, node.ts, roles/) and the test tree wire internals and are exempt.
 */
function boundaries(depth) {
  return {
    files: [`src/${'*/'.repeat(depth)}*.ts`],
    ignores: ['src/roles/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: `${crossFolder(depth)}(?!\\.\\.)[^/]+/`, message: 'import another folder through its index.ts' },
      ] }],
    },
  };
}
function roleIsolation(role) {
  const others = ROLES.filter((r) => r !== role).join('|');
  return {
    files: [`src/${role}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: `^(\\.\\./)+(${others})(/|$)`, message: 'roles never import each other: share the code through protocol/, task/ or another common folder' },
        { regex: `^(\\.\\./)+[^./][^/]*/`, message: 'import another folder through its index.ts' },
      ] }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench-results/**', 'data/**', 'helm/**', 'test/fixtures/**', '**/*.js', '**/*.cjs', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
      // String(x) of unknown values is deliberate in error messages.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })], 'import-x/extensions': ['.ts', '.js'], 'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] } },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }], 'import-x/no-duplicates': ['error', { 'prefer-inline': true }] },
  },
  boundaries(1),
  boundaries(2),
  ...ROLES.map(roleIsolation),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  { files: ['src/main.ts', 'src/cli/**/*.ts'], rules: { 'no-console': 'off' } },
);
