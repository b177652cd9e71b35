import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/load';
import type { KiNodeDeps } from '../../../src/ki/ki-node';
import { KiNode } from '../../../src/ki/ki-node';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import type { MessageOf } from '../../../src/protocol/messages';
import type { TopologyNames } from '../../../src/protocol/names';
import { InProcessTransport } from '../../../src/transport/in-process-transport';
import type { MessageBus, Received } from '../../../src/transport/message-bus';
import { inProcessBus } from '../../helpers/in-process-bus';

/** Ki `ki1` of group `an1` on an in-process bus, with the bus of its An collecting the results it reports. */
export interface KiOnBus {
  transport: InProcessTransport;
  ki: KiNode;
  /** Speaks for the An: assignments, cancels, and their reports. */
  an: MessageBus;
  results: MessageOf<'task.result'>['items'];
  stop(): Promise<void>;
}

/** Starts the Ki with `env` on top of two slots and no GPUs; `deps` adds to (or replaces) its dependencies. */
export async function startKiOnBus(names: TopologyNames, env: Record<string, string> = {}, deps: Partial<KiNodeDeps> = {}): Promise<KiOnBus> {
  const transport = new InProcessTransport({ names });
  await transport.start();
  const config = loadConfig({ env: { KI_SLOTS: '2', KI_GROUP: 'an1', KI_GPUS: 'none', NODE_ID: 'ki1', ...env }, role: 'ki' });
  const ki = new KiNode({
    nodeId: 'ki1', config, bus: inProcessBus(transport, 'ki1', 'ki'), names, log: silentLogger(), metrics: createMetrics(new Registry(), 'ki'), executors: {}, gpus: [], ...deps,
  });
  await ki.start();
  const an = inProcessBus(transport, 'an1', 'an');
  const results: MessageOf<'task.result'>['items'] = [];
  await an.subscribe({ name: names.inbox('an', 'an1'), kind: 'durable' }, 64, ['task.started', 'task.progress', 'task.result'], ({ msg, delivery }: Received) => {
    delivery.ack();
    if (msg.type === 'task.result') results.push(...msg.payload.items);
  });
  return { transport, ki, an, results, stop: async () => { await ki.stop(); await transport.stop(); } };
}

/** Waits up to two seconds for `check`, then asserts it. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}
