#!/usr/bin/env node
// Copies the files tsc does not emit (the dashboard's HTML, CSS, JS and icons under src/) into
// dist/, beside the compiled code that serves them. Run after `tsc -p tsconfig.build.json`.
'use strict';
const { cpSync, existsSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const copies = [['src/dashboard/static', 'dist/dashboard/static']];

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
