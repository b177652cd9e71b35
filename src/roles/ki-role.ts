import { BUILTIN_EXECUTORS } from '../ki/executors/builtins';
import { createConfiguredExecutors } from '../ki/executors/configured';
import { discoverGpus } from '../ki/gpu';
import { KiNode } from '../ki/ki-node';
import type { RoleContext, RoleServices } from './role-context';

/** A Ki: its GPUs, its executors and the node that runs what its An assigns. */
export async function kiServices(ctx: RoleContext): Promise<RoleServices> {
  const { config, joiner } = ctx;
  const log = ctx.log.child({ component: 'ki' });
  const gpus = await discoverGpus(config.ki.gpus);
  if (gpus.reason) log.info({ reason: gpus.reason }, 'no GPUs in use');
  const executors = { ...BUILTIN_EXECUTORS, ...createConfiguredExecutors(config.ki, log) };
  const ki = new KiNode({
    nodeId: config.nodeId, config, bus: ctx.newBus(), names: ctx.names, log, metrics: ctx.metrics, executors, gpus: gpus.devices,
    ...(joiner ? { instance: joiner.instance, onGroupChange: () => joiner.refreshNow() } : {}),
  });
  return { services: [ki] };
}
