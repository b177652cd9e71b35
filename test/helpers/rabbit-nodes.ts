import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { chownTree, ExtraNode, pidAlive, rabbitmqIds, type RabbitNode } from './rabbit-node';

export type { RabbitNode } from './rabbit-node';

/**
 * Extra RabbitMQ nodes on this machine, for tests that stop, restart or lose brokers. Each node has
 * its own node name, AMQP and distribution ports, config, data and log folders, so the machine's
 * own broker (`rabbit@localhost`, which other tests share) is never touched. Nodes started together
 * form one cluster. They share the Erlang cookie of the rabbitmq user, as the machine's own node
 * and its CLI tools do.
 *
 * Usage: `const rc = await startRabbitCluster(3)`, then `rc.addVhost(vhost)` and
 * `rc.amqpUrls(vhost, i)` for AMQP_URL, `rc.nodes[i].stop()` / `.start()` (the whole node) or
 * `.stopApp()` / `.startApp()` (RabbitMQ inside a running node), `rc.nodes[i].ctl(...)` for
 * rabbitmqctl, and `rc.destroy()` in `after`. Where extra nodes cannot be started the start throws
 * {@link RabbitNodesUnavailableError}: call {@link skipUnlessRabbitNodes} in `before` first.
 */

/** All runs keep their nodes below this folder; a run whose test process died is cleaned up by the next. */
const ROOT = join(tmpdir(), 'anki-rabbit-nodes');
const HOST = 'localhost';

/** Extra RabbitMQ nodes cannot run on this machine (the reason says why); tests skip. */
export class RabbitNodesUnavailableError extends Error {}

/** Extra nodes clustered together, with a test user and vhosts of their own. */
export interface RabbitCluster {
  readonly nodes: readonly RabbitNode[];
  readonly user: string;
  readonly password: string;
  /** Every node's URL for `vhost`, comma-separated, starting with node `first` (to spread connections). */
  amqpUrls(vhost: string, first?: number): string;
  /** Creates a vhost the test user may use fully. */
  addVhost(vhost: string): Promise<void>;
  /** Stops every node and removes its folders. */
  destroy(): Promise<void>;
}

/**
 * Why extra nodes cannot run here, or undefined when they can. The Debian scripts run the server
 * as the rabbitmq user and only root or that user may call them.
 */
export function rabbitNodesUnavailableReason(): string | undefined {
  for (const tool of ['rabbitmq-server', 'rabbitmqctl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not on PATH`;
    }
  }
  const uid = process.getuid?.();
  if (uid === undefined) return 'not a POSIX system';
  if (uid !== 0 && rabbitmqIds()?.uid !== uid) return 'only root or the rabbitmq user may start RabbitMQ nodes (the RabbitMQ scripts refuse anyone else)';
  return undefined;
}

/** In a mocha hook: skips the suite, loudly and saying why, where extra RabbitMQ nodes cannot run. */
export function skipUnlessRabbitNodes(ctx: Mocha.Context, what: string): void {
  const reason = rabbitNodesUnavailableReason();
  if (!reason) return;
  console.warn(`\n      SKIPPED ${what}: extra RabbitMQ nodes cannot be started on this machine: ${reason}\n`);
  ctx.skip();
}

/** Names of the cluster's running nodes, as `node` sees them. */
async function runningNodes(node: RabbitNode): Promise<string[]> {
  const status = JSON.parse(await node.ctl('cluster_status', '--formatter', 'json')) as { running_nodes?: string[] };
  return status.running_nodes ?? [];
}

/** The nodes of runs whose test process is gone: stopped and removed, so a crashed run leaves nothing running for long. */
async function removeAbandonedRuns(): Promise<void> {
  if (!existsSync(ROOT)) return;
  for (const run of readdirSync(ROOT)) {
    const dir = join(ROOT, run);
    const ownerFile = join(dir, 'owner.json');
    let owner: { pid: number; nodes: { name: string }[] } | undefined;
    try { owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as typeof owner; } catch { /* not ours, or half-written */ }
    if (!owner || pidAlive(owner.pid)) continue;
    await Promise.all(owner.nodes.map((n) => new ExtraNode(n.name, 0, 0, dir, () => ({ user: '', password: '' })).kill()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts `count` extra RabbitMQ nodes and clusters them, with a test user of its own. The others
 * join the first as they boot (classic peer discovery); one that booted alone all the same
 * joins the usual way (`stop_app`, `join_cluster`, `start_app`). Throws
 * {@link RabbitNodesUnavailableError} where nodes cannot run here; any other failure removes what
 * was started and throws with the end of each node's log.
 */
export async function startRabbitCluster(count: number, label = 't'): Promise<RabbitCluster> {
  const unavailable = rabbitNodesUnavailableReason();
  if (unavailable) throw new RabbitNodesUnavailableError(unavailable);
  await removeAbandonedRuns();
  const runId = randomBytes(3).toString('hex');
  const runDir = join(ROOT, runId);
  mkdirSync(runDir, { recursive: true });
  const user = `anki-test-${runId}`;
  // Hex: a password starting with '-' would read as an option to rabbitmqctl.
  const password = randomBytes(16).toString('hex');
  const credentials = () => ({ user, password });
  const nodes: ExtraNode[] = [];
  for (let i = 1; i <= count; i++) nodes.push(new ExtraNode(`rabbit-${label}${i}-${runId}@${HOST}`, await freePort(), await freePort(), runDir, credentials));
  writeFileSync(join(runDir, 'owner.json'), JSON.stringify({ pid: process.pid, nodes: nodes.map((n) => ({ name: n.name })) }));
  const [seed, ...rest] = nodes;
  seed!.prepare();
  for (const n of rest) n.prepare(seed!.name);
  const ids = rabbitmqIds();
  chownTree(ROOT, ids, false);
  chownTree(runDir, ids);

  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    // The seed boots alone, then the others join it one at a time: nodes joining at once race on
    // the seed's schema and feature flags (RabbitMQ 3.10 then stops both with a schema mismatch).
    await seed!.start();
    for (const n of rest) await n.start();
    // A node that gave up on the seed booted on its own: it joins the usual way.
    const running = rest.length > 0 ? await runningNodes(seed!) : [seed!.name];
    const alone = rest.filter((n) => !running.includes(n.name));
    if (alone.length > 0) {
      await Promise.all(alone.map((n) => n.ctl('stop_app')));
      // One join at a time: joins racing on the seed's schema can fail.
      for (const n of alone) await n.ctl('join_cluster', seed!.name);
      await Promise.all(alone.map((n) => n.startApp()));
      const now = await runningNodes(seed!);
      const missing = nodes.filter((n) => !now.includes(n.name)).map((n) => n.name);
      if (missing.length > 0) throw new Error(`${missing.join(', ')} did not join ${seed!.name}`);
    }
    await seed!.ctl('add_user', user, password);
    return {
      nodes, user, password,
      amqpUrls: (vhost, first = 0) => nodes.map((_, i) => nodes[(first + i) % nodes.length]!.amqpUrl(vhost)).join(','),
      addVhost: async (vhost) => {
        await seed!.ctl('add_vhost', vhost);
        await seed!.ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
      },
      destroy,
    };
  } catch (err) {
    const logs = nodes.map((n) => `${n.name}:\n${n.logTail(10)}`);
    await destroy();
    throw new Error(`starting ${count} RabbitMQ nodes failed: ${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
  }
}
