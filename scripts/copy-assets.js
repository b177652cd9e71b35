#!/usr/bin/env node
// Copies the files tsc does not emit (the dashboard's HTML, CSS, JS and icons under src/) into
// dist/, beside the compiled code that serves them, and records what was built (version and
// commit) in dist/build-info.json for `--version`. Run after `tsc -p tsconfig.build.json`.
'use strict';
const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const copies = [['src/dashboard/static', 'dist/dashboard/static']];
// Third-party files the dashboard serves itself (see vendored-assets.json).
const vendored = Object.entries(require('./vendored-assets.json').files).map(([to, from]) => [from, join('dist/dashboard/static', to)]);

for (const [from, to] of copies) {
  const src = join(root, from);
  const dest = join(root, to);
  if (!existsSync(src)) {
    console.error(`copy-assets: ${from} is missing`);
    process.exit(1);
  }
  // Start clean, so a file deleted from src/ is not served from a stale dist/.
  rmSync(dest, { recursive: true, force: true });
  cpSync(src, dest, { recursive: true, filter: (p) => !p.split(/[\\/]/).pop().startsWith('.') });
  console.log(`copy-assets: ${from} -> ${to}`);
}

for (const [from, to] of vendored) {
  if (!existsSync(join(root, from))) {
    console.error(`copy-assets: ${from} is missing (npm ci installs it)`);
    process.exit(1);
  }
  mkdirSync(dirname(join(root, to)), { recursive: true });
  cpSync(join(root, from), join(root, to));
  console.log(`copy-assets: ${from} -> ${to}`);
}

/** The commit: BUILD_COMMIT (an image build has no .git), else git, else unknown. */
function commit() {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const info = { version: process.env.BUILD_VERSION || version, commit: commit() };
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify(info)}\n`);
console.log(`copy-assets: dist/build-info.json ${info.version} ${info.commit}`);
