import { builtinExecutors, demoTypesEnabled } from '../ki/executors/builtins';
import { createConfiguredExecutors } from '../ki/executors/configured';
import { discoverGpus, GpuUsageSampler } from '../ki/gpu';
import { hostname } from 'node:os';
import { KiNode } from '../ki/ki-node';
import { ModelHost } from '../ki/model-host';
import { loadPluginModelHooks } from '../ki/executors/plugin';
import { resolveStableId } from '../ki/stable-id';
import { PluginWorkerPool } from '../ki/executors/plugin-workers/worker-pool';
import type { RoleContext, RoleServices } from './role-context';

/** How the Ki role is run. */
export interface KiRoleOptions {
  /** Part of a standalone node: demo types default on in development. */
  standalone?: boolean;
}

/** A Ki: its GPUs, its executors and the node that runs what its An assigns. */
export async function kiServices(ctx: RoleContext, options: KiRoleOptions = {}): Promise<RoleServices> {
  const { config, joiner } = ctx;
  const log = ctx.log.child({ component: 'ki' });
  const gpus = await discoverGpus(config.ki.gpus);
  if (gpus.reason) log.info({ reason: gpus.reason }, 'no GPUs in use');
  const demoTypes = demoTypesEnabled(config.ki.demoTypes, options.standalone === true, config.env);
  const pluginWorkers = config.ki.handlers.trim() !== '' && config.ki.pluginIsolation !== 'none'
    ? new PluginWorkerPool({
      handlersPath: config.ki.handlers, nodeId: config.nodeId, logLevel: config.log.level, killGraceMs: config.ki.killGraceMs, idleMs: config.ki.gpuWorkerIdleMs,
      log: log.child({ component: 'plugin-workers' }), metrics: ctx.metrics,
    })
    : undefined;
  const executors = { ...builtinExecutors(demoTypes), ...createConfiguredExecutors(config.ki, log, config.env === 'production', pluginWorkers) };
  const stableId = resolveStableId({
    configured: config.stableId, fromHostname: config.ki.stableIdFromHostname, hostname: hostname(), gpuUuids: gpus.devices.map((g) => g.uuid), nodeId: config.nodeId,
  });
  const modelHooks = config.ki.handlers.trim() !== '' ? loadPluginModelHooks(config.ki.handlers, log) : new Map();
  // Set once the node exists: a state change sends a heartbeat at once, so placement follows it.
  let beat = (): void => undefined;
  const models = new ModelHost({ hooks: modelHooks, slots: config.ki.modelSlots, gpus: () => gpus.devices, log: log.child({ component: 'models' }), metrics: ctx.metrics, onChange: () => beat() });
  const ki = new KiNode({
    nodeId: config.nodeId, stableId, config, bus: ctx.newBus(), names: ctx.names, log, metrics: ctx.metrics, executors, gpus: gpus.devices, models,
    ...(joiner ? { instance: joiner.instance, onGroupChange: () => joiner.refreshNow() } : {}),
  });
  beat = () => ki.beatNow();
  // Only nvidia-smi's GPUs change: fake ones report what the setting says.
  // Before the Ki: services stop in reverse order, so the workers outlive the Ki's drain.
  const nodeServices = pluginWorkers ? [pluginWorkers, ki] : [ki];
  if (gpus.source !== 'auto' || gpus.devices.length === 0 || config.ki.gpuRefreshMs === 0) return { services: nodeServices };
  const sampler = new GpuUsageSampler({ devices: gpus.devices, intervalMs: config.ki.gpuRefreshMs, log, onSample: (devices) => ki.updateGpuUsage(devices) });
  return { services: [...nodeServices, sampler] };
}
