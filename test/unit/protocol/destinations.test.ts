import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import ts from 'typescript';
import {
  anInbox, assignRoute, cancelRoute, deadLetters, electionQueue, heartbeatRoute, identityReply, joinRoute, kiInbox, pendingBand, taskEventRoute,
} from '../../../src/protocol';
import * as protocol from '../../../src/protocol';
import { topologyNames } from '../../../src/protocol/names';

const names = topologyNames('unit');

describe('Destinations: where each kind of message is sent', () => {
  it('point at the queues and routing keys the topology names give', () => {
    assert.deepEqual(kiInbox(names, 'ki-1').target, { queue: names.inbox('ki', 'ki-1') });
    assert.deepEqual(anInbox(names, 'an-1').target, { queue: names.inbox('an', 'an-1') });
    assert.deepEqual(electionQueue(names).target, { queue: names.election });
    assert.deepEqual(identityReply(names, 'ki', 'ki-1', 'inst-1').target, { queue: names.identity('ki', 'ki-1', 'inst-1') });
    assert.deepEqual(heartbeatRoute(names, 'an', 'an-1').target, { exchange: names.control, routingKey: names.rk.heartbeat('an', 'an-1') });
    assert.deepEqual(cancelRoute(names, 'ki-1').target, { exchange: names.control, routingKey: names.rk.cancel('ki-1') });
    assert.deepEqual(assignRoute(names, 'ki-1').target, { exchange: names.control, routingKey: names.rk.assign('ki-1') });
    assert.deepEqual(taskEventRoute(names, 'finished').target, { exchange: names.control, routingKey: names.rk.event('finished') });
    assert.deepEqual(joinRoute(names, 'an', 'an-1').target, { exchange: names.control, routingKey: names.rk.join('an', 'an-1') });
    assert.deepEqual(deadLetters(names, 'echo').target, { exchange: names.deadLetterExchange, routingKey: 'task.failed.echo' });
  });

  it('send a task to the pending queue of its priority band', () => {
    for (let priority = 0; priority <= 9; priority++) {
      assert.deepEqual(pendingBand(names, priority).target, { queue: names.pendingFor(priority) });
    }
    assert.deepEqual(pendingBand(names, 9).target, { queue: 'unit.tasks.pending.high' });
    assert.deepEqual(pendingBand(names, 0).target, { queue: 'unit.tasks.pending.low' });
  });

  it('keep the unchecked constructor out of the protocol surface', () => {
    assert.equal('uncheckedDestination' in protocol, false);
  });

  it('refuse at compile time a type the destination does not accept (destinations.types.ts)', function () {
    // The type checks of the test tree run only under `tsc --noEmit`; this keeps them in the unit run.
    this.timeout(60_000);
    const config = ts.getParsedCommandLineOfConfigFile(join(__dirname, '../../../tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    assert.ok(config, 'tsconfig.json is readable');
    const program = ts.createProgram([join(__dirname, 'destinations.types.ts')], { ...config.options, noEmit: true });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    // An `@ts-expect-error` over a line that compiles is reported too (TS2578), so an empty list
    // means every misuse there is refused and every right use accepted.
    assert.deepEqual(problems, []);
  });
});
