import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The policy acts on the whole process, so it is tried in a process of its own: a rejection
 * nothing handles is logged with its stack and counted, and the process goes on to exit 0 by
 * itself (Node's default would end it with code 1 at once).
 */
describe('unhandled promise rejections', () => {
  it('are logged at error with their stack and counted, and the node keeps running', () => {
    const script = `
      const { Registry } = require('prom-client');
      const { installUnhandledRejectionPolicy } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'src', 'node.ts'))});
      const { createMetrics } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'src', 'observability', 'metrics.ts'))});
      const registry = new Registry();
      const metrics = createMetrics(registry, 'an');
      const lines = [];
      installUnhandledRejectionPolicy({ error: (o, msg) => lines.push({ ...o, msg }) }, metrics);
      Promise.reject(new Error('forgot a catch'));
      setTimeout(async () => {
        const value = (await metrics.unhandledRejections.get()).values[0].value;
        process.stdout.write(JSON.stringify({ value, lines }));
      }, 100);
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(out.status, 0, out.stderr);
    const { value, lines } = JSON.parse(out.stdout) as { value: number; lines: { msg: string; err: { message: string; stack: string } }[] };
    assert.equal(value, 1);
    assert.equal(lines[0]?.err.message, 'forgot a catch');
    assert.match(lines[0]?.err.stack ?? '', /forgot a catch\n\s+at /);
  });
});
