// Preloaded into a node process (NODE_OPTIONS=--require): on exit, writes the npm packages it
// loaded and whether Node's own fetch implementation was loaded to $LOADED_PACKAGES_FILE, as JSON.
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const packages = new Set();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const parts = file.slice(at + 'node_modules/'.length).split('/');
    packages.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  const fetchLoaded = process.moduleLoadList.some((m) => m.includes('undici'));
  writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify({ packages: [...packages].sort(), fetchLoaded }));
});
