import { strict as assert } from 'node:assert';
import { DEV_JWT_SECRET } from '../../src/config/schema';
import { mintClientToken } from '../../src/security/client-tokens';
import type { ClientRole } from '../../src/security/permissions';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

/**
 * Every REST route × every kind of caller against a real principal, An and Ki, with the status
 * DESIGN.md's role table implies. The principal requires `aud` = anki-api. The single Ki slot is
 * held by a long task, so the tasks under test stay `queued` and only the requests change them.
 */

const AUDIENCE = 'anki-api';
const OWNER = 'alice';
type Response = Awaited<ReturnType<Api['request']>>;

/** Callers that hold a valid token; the owner of the tasks under test is alice. */
const AUTHORIZED = ['admin', 'operator', 'submitter-owner', 'submitter-other', 'viewer-owner', 'viewer-other'] as const;
/** Callers whose token must be refused before any route runs. */
const UNAUTHENTICATED = ['no token', 'expired token', 'alg none token', 'HS token with a wrong secret', 'token with a wrong audience', 'token without audience'] as const;
type Caller = (typeof AUTHORIZED)[number] | (typeof UNAUTHENTICATED)[number];

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowSec = () => Math.floor(Date.now() / 1000);
const mint = (sub: string, role: ClientRole, o: { secret?: string; ttlSec?: number; audience?: string | null } = {}) =>
  mintClientToken(o.secret ?? DEV_JWT_SECRET, { sub, role, ttlSec: o.ttlSec ?? 3600, ...(o.audience === null ? {} : { audience: o.audience ?? AUDIENCE }) });

/** The bearer token each caller presents (undefined: no Authorization header). */
function tokenOf(caller: Caller): string | undefined {
  switch (caller) {
    case 'admin': return mint('root', 'admin');
    case 'operator': return mint('olga', 'operator');
    case 'submitter-owner': return mint(OWNER, 'submitter');
    case 'submitter-other': return mint('bob', 'submitter');
    case 'viewer-owner': return mint(OWNER, 'viewer');
    case 'viewer-other': return mint('vera', 'viewer');
    case 'no token': return undefined;
    case 'expired token': return mint('root', 'admin', { ttlSec: -3600 });
    case 'alg none token': return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'root', role: 'admin', aud: AUDIENCE, iat: nowSec(), exp: nowSec() + 3600 })}.`;
    case 'HS token with a wrong secret': return mint('root', 'admin', { secret: 'not-the-secret-of-this-cluster-0123456789abcdef' });
    case 'token with a wrong audience': return mint('root', 'admin', { audience: 'other-api' });
    case 'token without audience': return mint('root', 'admin', { audience: null });
  }
}

const SUBJECT: Partial<Record<Caller, string>> = { admin: 'root', operator: 'olga', 'submitter-owner': OWNER, 'submitter-other': 'bob', 'viewer-owner': OWNER, 'viewer-other': 'vera' };

interface Route {
  name: string;
  /** A fresh task of alice's for each request (the request may change or remove it). */
  freshTask?: boolean;
  /** Reads alice's shared task. */
  sharedTask?: boolean;
  /** Creates tasks when allowed. */
  creates?: boolean;
  call: (api: Api, taskId: string) => Promise<Response>;
  /** Checks the effect of an allowed request. */
  effect?: (r: Response, ctx: { caller: Caller; taskId: string; admin: Api }) => Promise<void>;
  expected: Record<(typeof AUTHORIZED)[number], number>;
}

const WRITERS = { admin: 201, operator: 201, 'submitter-owner': 201, 'submitter-other': 201, 'viewer-owner': 403, 'viewer-other': 403 };
const TASK_WRITE = { admin: 200, operator: 200, 'submitter-owner': 200, 'submitter-other': 404, 'viewer-owner': 403, 'viewer-other': 403 };
const NODE_READ = { admin: 200, operator: 200, 'submitter-owner': 403, 'submitter-other': 403, 'viewer-owner': 403, 'viewer-other': 403 };

const ROUTES: Route[] = [
  {
    name: 'POST /tasks', creates: true, expected: WRITERS,
    call: (api) => api.post('/tasks', { type: 'echo', payload: { probe: 'authz' } }),
    effect: async (r, { caller }) => {
      assert.equal(r.body.owner, SUBJECT[caller], 'the caller owns what it submits');
      assert.equal(r.headers.get('location'), `/tasks/${r.body.id}`);
    },
  },
  {
    name: 'POST /tasks/batch', creates: true, expected: WRITERS,
    call: (api) => api.post('/tasks/batch', { tasks: [{ type: 'echo', payload: 1 }, { type: 'echo', payload: 2 }] }),
    effect: async (r, { caller, admin }) => {
      assert.equal(r.body.ids.length, 2);
      for (const id of r.body.ids) assert.equal((await admin.get(`/tasks/${id}`)).body.owner, SUBJECT[caller]);
    },
  },
  {
    name: 'GET /tasks/{id}', sharedTask: true,
    expected: { admin: 200, operator: 200, 'submitter-owner': 200, 'submitter-other': 404, 'viewer-owner': 200, 'viewer-other': 404 },
    call: (api, id) => api.get(`/tasks/${id}`),
    effect: async (r, { taskId }) => { assert.equal(r.body.id, taskId); },
  },
  {
    name: 'GET /tasks', sharedTask: true,
    expected: { admin: 200, operator: 200, 'submitter-owner': 200, 'submitter-other': 200, 'viewer-owner': 200, 'viewer-other': 200 },
    call: (api) => api.get('/tasks?limit=1000'),
    effect: async (r, { caller, taskId }) => {
      const items = r.body.items as { id: string; owner: string }[];
      const sub = SUBJECT[caller]!;
      if (caller === 'admin' || caller === 'operator') {
        assert.ok(items.some((t) => t.id === taskId), 'all tasks are listed');
        assert.ok(items.some((t) => t.owner !== sub), 'other owners included');
      } else {
        for (const t of items) assert.equal(t.owner, sub, `${caller} lists only its own tasks`);
        assert.equal(items.some((t) => t.id === taskId), sub === OWNER);
      }
    },
  },
  {
    name: 'GET /tasks?owner=alice', sharedTask: true,
    expected: { admin: 200, operator: 200, 'submitter-owner': 200, 'submitter-other': 200, 'viewer-owner': 200, 'viewer-other': 200 },
    call: (api) => api.get(`/tasks?owner=${OWNER}&limit=1000`),
    effect: async (r, { caller }) => {
      const items = r.body.items as { owner: string }[];
      const expectedOwner = caller === 'admin' || caller === 'operator' ? OWNER : SUBJECT[caller]!;
      for (const t of items) assert.equal(t.owner, expectedOwner, 'an owner filter never widens an own-tasks scope');
    },
  },
  {
    name: 'PATCH /tasks/{id}', freshTask: true, expected: TASK_WRITE,
    call: (api, id) => api.request('PATCH', `/tasks/${id}`, { priority: 2 }),
    effect: async (r, { admin, taskId }) => {
      assert.equal(r.body.priority, 2);
      assert.equal((await admin.get(`/tasks/${taskId}`)).body.priority, 2);
    },
  },
  {
    name: 'POST /tasks/{id}/cancel', freshTask: true, expected: TASK_WRITE,
    call: (api, id) => api.post(`/tasks/${id}/cancel`),
    effect: async (r, { admin, taskId }) => {
      assert.equal(r.body.status, 'cancelled');
      assert.equal((await admin.get(`/tasks/${taskId}`)).body.status, 'cancelled');
    },
  },
  {
    name: 'DELETE /tasks/{id}', freshTask: true, expected: { ...TASK_WRITE, admin: 204, operator: 204, 'submitter-owner': 204 },
    call: (api, id) => api.request('DELETE', `/tasks/${id}`),
    effect: async (_r, { admin, taskId }) => { assert.equal((await admin.get(`/tasks/${taskId}`)).status, 404); },
  },
  {
    // Alice's task is queued (the only Ki slot is held): a writer who may see it learns it cannot be retried, and it stays queued.
    name: 'POST /tasks/{id}/retry', sharedTask: true, expected: { ...TASK_WRITE, admin: 409, operator: 409, 'submitter-owner': 409 },
    call: (api, id) => api.post(`/tasks/${id}/retry`),
  },
  {
    name: 'GET /dead-letters', expected: NODE_READ,
    call: (api) => api.get('/dead-letters'),
    effect: async (r) => { assert.ok(Array.isArray(r.body.items)); },
  },
  {
    name: 'POST /dead-letters/{id}/redrive', expected: { ...NODE_READ, admin: 404, operator: 404 },
    call: (api) => api.post('/dead-letters/00000000-0000-4000-8000-000000000000/redrive'),
  },
  {
    name: 'DELETE /dead-letters/{id}', expected: { ...NODE_READ, admin: 404, operator: 404 },
    call: (api) => api.request('DELETE', '/dead-letters/00000000-0000-4000-8000-000000000000'),
  },
  {
    name: 'GET /nodes', expected: NODE_READ,
    call: (api) => api.get('/nodes'),
    effect: async (r) => { assert.ok(r.body.items.some((n: { role: string }) => n.role === 'ki')); },
  },
  {
    // Admin only. No node of this cluster was ever quarantined, so even the admin learns "no record".
    name: 'POST /nodes/{id}/release', expected: { ...NODE_READ, admin: 404, operator: 403 },
    call: (api) => api.post('/nodes/ki1/release'),
  },
  {
    name: 'GET /cluster', expected: NODE_READ,
    call: (api) => api.get('/cluster'),
    effect: async (r) => { assert.ok(r.body.leader?.id, 'names the leader'); },
  },
];

function assertSecurityHeaders(r: Response): void {
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('cache-control'), 'no-store');
}

describe('REST authorization: every route × every caller (real principal, An and Ki)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let base: string;
  let admin: Api;
  let alice: Api;
  let sharedTaskId: string;
  let blockerId: string;

  const api = (caller: Caller) => {
    const token = tokenOf(caller);
    return token === undefined ? new Api(base) : new Api(base, token);
  };
  const newTask = async (): Promise<string> => {
    const r = await alice.post('/tasks', { type: 'echo', payload: { probe: 'target' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  /** Everything a request could have changed about a task (absent: 404). */
  const snapshot = async (id: string) => {
    const r = await admin.get(`/tasks/${id}`);
    return r.status === 200 ? r.body : { status: r.status };
  };
  const taskCount = async () => (await admin.get('/tasks?limit=1000')).body.items.length as number;

  before(async () => {
    iso = await createIsolation('authz');
    cluster = new TestCluster(iso, { JWT_AUDIENCE: AUDIENCE, KI_SLOTS: '1' });
    await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    base = cluster.url();
    admin = api('admin');
    alice = api('submitter-owner');
    await waitFor(() => admin.get('/nodes'), (r) => r.status === 200 && r.body.items.some((n: { role: string; status: string }) => n.role === 'ki' && n.status === 'alive'), { what: 'Ki alive' });
    // Hold the only Ki slot, so every task below stays queued until a request changes it.
    const blocker = await admin.post('/tasks', { type: 'sleep', payload: { ms: 600_000 } });
    assert.equal(blocker.status, 201, JSON.stringify(blocker.body));
    blockerId = blocker.body.id;
    await waitFor(() => admin.get(`/tasks/${blockerId}`), (r) => r.body.status === 'running', { what: 'blocker running' });
    sharedTaskId = await newTask();
  });

  after(async () => {
    if (admin && blockerId) await admin.post(`/tasks/${blockerId}/cancel`).catch(() => undefined);
    await cluster?.stopAll();
    await iso?.destroy();
  });

  for (const route of ROUTES) {
    describe(route.name, () => {
      const cells: [Caller, number][] = [...AUTHORIZED.map((c): [Caller, number] => [c, route.expected[c]]), ...UNAUTHENTICATED.map((c): [Caller, number] => [c, 401])];
      for (const [caller, expected] of cells) {
        const guarded = expected >= 400 && Boolean(route.freshTask || route.sharedTask || route.creates);
        it(`answers ${expected} to ${caller}${guarded ? ' and changes nothing' : ''}`, async () => {
          const taskId = route.freshTask ? await newTask() : sharedTaskId;
          const before = route.freshTask || route.sharedTask ? await snapshot(taskId) : undefined;
          const countBefore = route.creates ? await taskCount() : undefined;

          const r = await route.call(api(caller), taskId);
          assert.equal(r.status, expected, `${caller} ${route.name}: ${JSON.stringify(r.body)}`);
          assertSecurityHeaders(r);

          if (expected >= 400) {
            assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
            assert.equal(r.body.status, expected);
            if (expected === 401) assert.equal(r.headers.get('www-authenticate'), 'Bearer');
            if (before !== undefined) assert.deepEqual(await snapshot(taskId), before, 'the task is unchanged');
            if (countBefore !== undefined) assert.equal(await taskCount(), countBefore, 'no task was created');
          } else {
            await route.effect?.(r, { caller, taskId, admin });
          }
        });
      }
    });
  }

  it("reports another owner's task exactly like a task that does not exist", async () => {
    const bob = api('submitter-other');
    const missing = '00000000-0000-4000-8000-000000000000';
    const hidden = await bob.get(`/tasks/${sharedTaskId}`);
    const absent = await bob.get(`/tasks/${missing}`);
    assert.equal(hidden.status, 404);
    assert.deepEqual({ ...hidden.body, detail: hidden.body.detail.replace(sharedTaskId, 'ID') }, { ...absent.body, detail: absent.body.detail.replace(missing, 'ID') });
  });

  it("neither returns nor reveals another owner's task for the same Idempotency-Key", async () => {
    const key = `authz-${Date.now()}`;
    const first = await alice.post('/tasks', { type: 'echo', payload: 'alice' }, { 'Idempotency-Key': key });
    assert.equal(first.status, 201);
    const bob = api('submitter-other');
    const second = await bob.post('/tasks', { type: 'echo', payload: 'bob' }, { 'Idempotency-Key': key });
    assert.equal(second.status, 201, 'a new task for bob');
    assert.notEqual(second.body.id, first.body.id);
    assert.equal(second.body.owner, 'bob');
    const again = await alice.post('/tasks', { type: 'echo', payload: 'alice' }, { 'Idempotency-Key': key });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
  });

  it('still serves /healthz and /readyz without a token, with the security headers', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const r = await new Api(base).get(path);
      assert.equal(r.status, 200, path);
      assertSecurityHeaders(r);
    }
  });
});
