import { strict as assert } from 'node:assert';
import { CapturedOutput, runClientCommand } from '../../../src/cli/client';
import { formatCluster } from '../../../src/cli/client/admin-commands';
import { parseClientArgs, UsageError } from '../../../src/cli/client/args';
import { redundancyOf, requirementsOf } from '../../../src/cli/client/submit-options';

/** Nothing listens here: every bad-usage case below must fail before a request is sent. */
const env = { ANKI_URL: 'http://127.0.0.1:9', ANKI_TOKEN: 't' };

async function run(command: string, args: string[]): Promise<{ code: number; out: CapturedOutput }> {
  const out = new CapturedOutput();
  return { code: await runClientCommand(command, args, env, out), out };
}

describe('client: submission requirements, redundancy and the admin commands', () => {
  it('reads --gpus, --gpu-memory-mib and --labels as requirements, and nothing when none is given', () => {
    assert.deepEqual(requirementsOf(parseClientArgs(['--gpus', '2', '--gpu-memory-mib', '16000', '--labels', 'zone=eu, a100'])), { gpus: 2, gpuMemoryMiB: 16000, labels: ['zone=eu', 'a100'] });
    assert.deepEqual(requirementsOf(parseClientArgs(['--labels', 'fast'])), { labels: ['fast'] });
    assert.equal(requirementsOf(parseClientArgs([])), undefined);
    assert.throws(() => requirementsOf(parseClientArgs(['--gpu-memory-mib', '-1'])), UsageError);
  });

  it('reads --redundancy R as R replicas with a majority quorum, or R:Q', () => {
    assert.deepEqual(redundancyOf(parseClientArgs(['--redundancy', '3'])), { replicas: 3, quorum: 2 });
    assert.deepEqual(redundancyOf(parseClientArgs(['--redundancy', '4:4'])), { replicas: 4, quorum: 4 });
    for (const bad of ['0', '3:4', '17', 'x', '2:0']) assert.throws(() => redundancyOf(parseClientArgs(['--redundancy', bad])), UsageError, bad);
  });

  it('refuses --timeout beside --timeout-ms, and a --timeout that is no duration', async () => {
    assert.equal((await run('submit', ['--type', 'echo', '--timeout', '5m', '--timeout-ms', '1000'])).code, 2);
    assert.match((await run('submit', ['--type', 'echo', '--timeout', 'soon'])).out.stderr, /--timeout must be/);
  });

  it('needs the ids and the priority the admin commands act on', async () => {
    assert.equal((await run('delete', [])).code, 2);
    assert.equal((await run('priority', ['6f1c2d3e-0000-4000-8000-000000000001'])).code, 2);
    assert.match((await run('priority', ['6f1c2d3e-0000-4000-8000-000000000001', '12'])).out.stderr, /--priority must be an integer from 0 to 9/);
    assert.equal((await run('release', [])).code, 2);
    assert.match((await run('cluster', ['extra'])).out.stderr, /takes no arguments/);
  });

  it('shows the cluster summary line by line', () => {
    const text = formatCluster({
      leader: { id: 'p1', term: 3 }, self: 'p2', admitted: 0, nodes: { ki: { alive: 2, dead: 1 } }, tasks: { queued: 4 }, tasksCapped: [], tasksCountedAt: '2030-01-31T08:00:00.000Z', queues: { pending: 4, p5: 4 },
      groups: [{ group: 'g1', an: ['an1'], ki: ['k1', 'k2'] }],
    });
    assert.match(text, /leader\s+p1 \(term 3\)/);
    assert.match(text, /ki nodes\s+alive 2, dead 1/);
    assert.match(text, /group g1\s+1 An, 2 Ki/);
  });
});
