import type * as Pg from 'pg';

/**
 * pg works out, as it loads, whether it runs in Cloudflare Workers. Where the runtime has no
 * `navigator` (Node 20) it asks by constructing a `Response`, which loads Node's whole fetch
 * implementation (~8 MB of RSS) into a process that never fetches. A `navigator` that exists only
 * while pg loads answers first (Node 21 and later have their own, and take the same branch).
 */
function loadPg(): typeof Pg {
  const g = globalThis as { navigator?: unknown };
  const shim = g.navigator === undefined;
  if (shim) g.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as typeof Pg;
  } finally {
    if (shim) delete g.navigator;
  }
}

export const pg = loadPg();
