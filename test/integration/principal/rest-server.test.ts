import { strict as assert } from 'node:assert';
import { HealthState } from '../../../src/lifecycle/health';
import { ScheduleRepository, StoreStatsRepository } from '../../../src/store';
import { PrincipalNode } from '../../../src/principal/principal-node';
import { PrincipalRestServer } from '../../../src/principal/rest-server';
import { taskEventRoute } from '../../../src/protocol/destinations';
import type { TaskEvent } from '../../../src/protocol/messages';
import { ClientTokenVerifier, mintClientToken } from '../../../src/security';
import type { ClientRole } from '../../../src/security/permissions';
import { ReputationRepository } from '../../../src/store/reputation-repository';
import { PrincipalHarness, until } from '../../unit/principal/principal-harness';

const SECRET = 'rest-server-test-secret-0123456789abcdef-0123';
const bearer = (sub: string, role: ClientRole) => ({ authorization: `Bearer ${mintClientToken(SECRET, { sub, role })}` });

/**
 * The principal's REST server on a real socket (127.0.0.1, a free port) over the in-process bus
 * and a PGlite store: the routes, the dashboard and the live feed as PrincipalRestServer wires them.
 */
describe('PrincipalRestServer (127.0.0.1, in-process bus, PGlite)', () => {
  let h: PrincipalHarness;
  let node: PrincipalNode;
  let rest: PrincipalRestServer;
  let base: string;

  before(async () => {
    h = new PrincipalHarness({ HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', PRINCIPAL_LIVE_NODES_INTERVAL_MS: '50' });
    await h.start();
    node = new PrincipalNode({ nodeId: 'p1', config: h.config, bus: h.bus('p1', 'principal', h.metrics), names: h.names, repo: h.repo, schedules: new ScheduleRepository(h.db, h.repo), workflows: h.workflows, log: h.log, metrics: h.metrics, leadership: h.leadership });
    rest = new PrincipalRestServer({
      nodeId: 'p1', config: h.config, principal: node, leadership: h.leadership, repo: h.repo, schedules: new ScheduleRepository(h.db, h.repo), reputation: new ReputationRepository(h.db), storeStats: new StoreStatsRepository(h.db), transport: h.transport, names: h.names,
      log: h.log, metrics: h.metrics, health: new HealthState(), verifier: new ClientTokenVerifier({ secret: SECRET, algorithms: ['HS256'], clockToleranceSec: 0 }),
    });
    await node.start();
    await rest.start();
    base = `http://127.0.0.1:${rest.port}`;
  });

  after(async () => {
    await rest?.stop();
    await node?.stop();
    await h?.stop();
  });

  it('answers health and serves the dashboard without a token', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });

  it('refuses the API without a token, and a viewer\'s submission', async () => {
    assert.equal((await fetch(`${base}/tasks`)).status, 401);
    const r = await fetch(`${base}/tasks`, { method: 'POST', headers: { ...bearer('vic', 'viewer'), 'content-type': 'application/json' }, body: '{"type":"echo"}' });
    assert.equal(r.status, 403);
  });

  it('admits a submission and shows the task to its owner only', async () => {
    const r = await fetch(`${base}/tasks`, { method: 'POST', headers: { ...bearer('alice', 'submitter'), 'content-type': 'application/json' }, body: '{"type":"echo","payload":{"n":1}}' });
    assert.equal(r.status, 201);
    const task = (await r.json()) as { id: string; status: string; owner: string };
    assert.equal(task.owner, 'alice');
    assert.equal(r.headers.get('location'), `/tasks/${task.id}`);
    assert.equal((await fetch(`${base}/tasks/${task.id}`, { headers: bearer('alice', 'submitter') })).status, 200);
    assert.equal((await fetch(`${base}/tasks/${task.id}`, { headers: bearer('bob', 'submitter') })).status, 404);
  });

  it('lists the membership at /nodes and sums it up at /cluster', async () => {
    const nodes = (await (await fetch(`${base}/nodes`, { headers: bearer('ops', 'operator') })).json()) as { items: unknown[] };
    assert.ok(Array.isArray(nodes.items));
    const cluster = (await (await fetch(`${base}/cluster`, { headers: bearer('ops', 'operator') })).json()) as { self: string; leader: { id: string } };
    assert.equal(cluster.self, 'p1');
    assert.equal(cluster.leader.id, 'p1');
  });

  it('streams a finished task to its owner over the live feed', async () => {
    const ticket = (await (await fetch(`${base}/events/ticket`, { method: 'POST', headers: bearer('alice', 'submitter') })).json()) as { ticket: string };
    const controller = new AbortController();
    const stream = await fetch(`${base}/events?ticket=${ticket.ticket}`, { signal: controller.signal });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 10_000;
      while (!text.includes(needle)) {
        assert.ok(Date.now() < deadline, `no ${needle} in the stream: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('event: hello');
    const taskId = '6f1c1d36-8f0b-4a57-9d57-4d7a0a3c2b11';
    const event: TaskEvent = { taskId, status: 'succeeded', owner: 'alice', attempts: 1, finishedAtMs: Date.now() };
    await h.bus('an-1', 'an').send(taskEventRoute(h.names, 'finished'), 'task.event', { v: 1, events: [event] });
    await readUntil(taskId);
    controller.abort();
    await until(() => rest.feed.clientCount, (n) => n === 0, 'the stream closed');
  });
});
