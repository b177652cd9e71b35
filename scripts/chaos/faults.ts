import { rabbitmqctl, type Isolation } from '../../test/helpers/isolation';
import type { TcpProxy } from '../../test/helpers/tcp-proxy';
import type { NodeProcess, TestCluster } from '../../test/helpers/cluster';
import { pick } from './rng';

export type FaultKind = 'kill-ki' | 'kill-an' | 'kill-principal' | 'kill-leader' | 'broker-connections' | 'db-outage';
export const FAULT_KINDS: readonly FaultKind[] = ['kill-ki', 'kill-an', 'kill-principal', 'kill-leader', 'broker-connections', 'db-outage'];

export interface FaultRecord {
  kind: FaultKind;
  target?: string;
  atMs: number;
  /** From the fault until the cluster finished a task again. */
  recoveryMs?: number;
}

/** Restart a killed node after this long, so the cluster runs short of it for a while. */
const RESTART_AFTER_MS = [500, 3000] as const;

/**
 * Injects one fault, chosen by the seeded random source: kill -9 a node (the leader among them)
 * and restart it later under the same id, close every broker connection of the run's vhost, or
 * take PostgreSQL away for a few seconds by cutting the proxy every node reaches it through.
 */
export async function injectFault(o: { cluster: TestCluster; iso: Isolation; dbProxy: TcpProxy; rand: () => number; leaderId: () => Promise<string | undefined>; log: (line: string) => void }): Promise<FaultRecord> {
  const kind = pick(o.rand, FAULT_KINDS);
  const at = Date.now();
  const live = (role: string) => o.cluster.nodes.filter((n) => n.role === role && n.alive);
  const killAndRestart = async (node: NodeProcess | undefined): Promise<string | undefined> => {
    if (!node) return undefined;
    await node.kill('SIGKILL');
    const delay = RESTART_AFTER_MS[0] + Math.floor(o.rand() * (RESTART_AFTER_MS[1] - RESTART_AFTER_MS[0]));
    setTimeout(() => {
      o.cluster.start(node.role as 'principal' | 'an' | 'ki', { id: node.id, env: node.env, waitReady: false }).catch((err: Error) => o.log(`restart of ${node.id} failed: ${err.message}`));
    }, delay);
    return node.id;
  };
  let target: string | undefined;
  switch (kind) {
    case 'kill-ki': target = await killAndRestart(pick(o.rand, live('ki'))); break;
    case 'kill-an': target = await killAndRestart(live('an').length > 1 ? pick(o.rand, live('an')) : undefined); break;
    case 'kill-principal': target = await killAndRestart(live('principal').length > 1 ? pick(o.rand, live('principal')) : undefined); break;
    case 'kill-leader': {
      const id = await o.leaderId();
      target = await killAndRestart(live('principal').length > 1 ? live('principal').find((p) => p.id === id) : undefined);
      break;
    }
    case 'broker-connections':
      await rabbitmqctl('close_all_connections', '--vhost', o.iso.vhost, 'chaos').catch((err: Error) => o.log(`close_all_connections failed: ${err.message}`));
      break;
    case 'db-outage': {
      o.dbProxy.cut();
      const ms = 1500 + Math.floor(o.rand() * 2500);
      setTimeout(() => o.dbProxy.restore(), ms);
      target = `${ms} ms`;
      break;
    }
  }
  o.log(`fault ${kind}${target ? ` ${target}` : ''}`);
  return { kind, ...(target ? { target } : {}), atMs: at };
}
