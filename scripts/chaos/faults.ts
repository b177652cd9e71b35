import { rabbitmqctl } from '../../test/helpers/isolation';
import type { NodeProcess } from '../../test/helpers/cluster';
import type { ChaosCluster } from './chaos-cluster';
import { pick } from './rng';

export const FAULT_KINDS = [
  'kill-ki', 'kill-an', 'kill-principal', 'kill-leader', 'broker-connections', 'db-outage', 'db-restart',
  'half-open-db', 'half-open-broker', 'partition', 'freeze-node',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  kind: FaultKind;
  target?: string;
  atMs: number;
  /** From the fault until the cluster finished a task again. */
  recoveryMs?: number;
  /** Why this fault could not be injected (no namespaces, no server of its own, no second node). */
  skipped?: string;
}

export interface FaultContext {
  chaos: ChaosCluster;
  rand: () => number;
  leaderId: () => Promise<string | undefined>;
  log: (line: string) => void;
}

/** Restart a killed node after this long, so the cluster runs short of it for a while. */
const RESTART_AFTER_MS = [500, 3000] as const;
/** How long a fault that heals on its own lasts: outage, half-open link, partition, SIGSTOP. */
const LASTS_MS = [1500, 4000] as const;

const between = (rand: () => number, [lo, hi]: readonly [number, number]) => lo + Math.floor(rand() * (hi - lo));

/**
 * The order faults come in: rounds in which every kind comes once, each round shuffled by the
 * seeded random source, so a short run sees every kind and the same seed the same order.
 */
export function faultSequence(rand: () => number, kinds: readonly FaultKind[] = FAULT_KINDS): () => FaultKind {
  let round: FaultKind[] = [];
  return () => {
    if (round.length === 0) {
      round = [...kinds];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    return round.shift()!;
  };
}

/**
 * Injects one fault: kill -9 a node (the leader among them) and restart it later under the same
 * id; close every broker connection of the run's vhost; take the database away from every node
 * (proxies cut) or restart it (`pg_ctl restart -m fast`); freeze one node's link to the database
 * or to the broker (half-open: nothing forwarded, nothing closed); partition one node's namespace
 * (link down or every packet dropped); or SIGSTOP one node. Those that last heal on their own
 * after a few seconds.
 */
export async function injectFault(kind: FaultKind, o: FaultContext): Promise<FaultRecord> {
  const atMs = Date.now();
  const { chaos, rand } = o;
  const notPossible = chaos.skipped[kind];
  if (notPossible) return { kind, atMs, skipped: notPossible };
  let target: string | undefined;
  switch (kind) {
    case 'kill-ki': target = await killAndRestart(o, pickOf(rand, chaos.live('ki'))); break;
    case 'kill-an': target = await killAndRestart(o, chaos.live('an').length > 1 ? pickOf(rand, chaos.live('an')) : undefined); break;
    case 'kill-principal': target = await killAndRestart(o, chaos.live('principal').length > 1 ? pickOf(rand, chaos.live('principal')) : undefined); break;
    case 'kill-leader': {
      const id = await o.leaderId();
      target = await killAndRestart(o, chaos.live('principal').length > 1 ? chaos.live('principal').find((p) => p.id === id) : undefined);
      break;
    }
    case 'broker-connections':
      await rabbitmqctl('close_all_connections', '--vhost', chaos.iso.vhost, 'chaos').catch((err: Error) => o.log(`close_all_connections failed: ${err.message}`));
      target = 'every connection of the vhost';
      break;
    case 'db-outage': {
      const ms = between(rand, LASTS_MS);
      for (const link of chaos.links.values()) link.db?.cut();
      later(ms, () => { for (const link of chaos.links.values()) link.db?.restore(); });
      target = `${ms} ms`;
      break;
    }
    case 'db-restart':
      await chaos.pg!.restart('fast');
      target = 'fast';
      break;
    case 'half-open-db': {
      const node = pickOf(rand, [...chaos.live('principal'), ...chaos.live('an')]);
      target = node && freezeFor(chaos.linkOf(node).db!, node, between(rand, LASTS_MS));
      break;
    }
    case 'half-open-broker': {
      const node = pickOf(rand, chaos.live());
      target = node && freezeFor(chaos.linkOf(node).broker, node, between(rand, LASTS_MS));
      break;
    }
    case 'partition': target = await partition(o, pickOf(rand, chaos.live())); break;
    case 'freeze-node': target = stopFor(o, pickOf(rand, chaos.live())); break;
  }
  o.log(`fault ${kind}${target ? ` ${target}` : ''}`);
  return { kind, atMs, ...(target ? { target } : { skipped: 'no node to inject it into' }) };
}

function pickOf(rand: () => number, nodes: NodeProcess[]): NodeProcess | undefined {
  return nodes.length > 0 ? pick(rand, nodes) : undefined;
}

function later(ms: number, fn: () => unknown): void {
  setTimeout(() => { void Promise.resolve().then(fn).catch(() => undefined); }, ms);
}

async function killAndRestart(o: FaultContext, node: NodeProcess | undefined): Promise<string | undefined> {
  if (!node) return undefined;
  await node.kill('SIGKILL');
  later(between(o.rand, RESTART_AFTER_MS), () => o.chaos.restart(node, o.log).catch((err: Error) => o.log(`restart of ${node.id} failed: ${err.message}`)));
  return node.id;
}

function freezeFor(proxy: { freeze(): void; restore(): void }, node: NodeProcess, ms: number): string {
  proxy.freeze();
  later(ms, () => proxy.restore());
  return `${node.id} ${ms} ms`;
}

async function partition(o: FaultContext, node: NodeProcess | undefined): Promise<string | undefined> {
  const host = node && o.chaos.linkOf(node).netns;
  const lab = o.chaos.lab;
  if (!node || !host || !lab) return undefined;
  const ms = between(o.rand, LASTS_MS);
  const how = o.rand() < 0.5 ? 'link down' : 'packets dropped';
  if (how === 'link down') await lab.linkDown(host);
  else await lab.dropAll(host);
  later(ms, () => lab.heal(host));
  return `${node.id} ${how} ${ms} ms`;
}

function stopFor(o: FaultContext, node: NodeProcess | undefined): string | undefined {
  if (!node) return undefined;
  const ms = between(o.rand, LASTS_MS);
  node.proc.kill('SIGSTOP');
  o.chaos.stopped.add(node);
  later(ms, () => {
    if (node.alive) node.proc.kill('SIGCONT');
    o.chaos.stopped.delete(node);
  });
  return `${node.id} ${ms} ms`;
}
