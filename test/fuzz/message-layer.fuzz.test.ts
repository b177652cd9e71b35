import { strict as assert } from 'node:assert';
import { createCipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import amqplib, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import fc from 'fast-check';
import pg from 'pg';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import { MESSAGE_TYPES, QUEUED_TYPES, messageSchemas, type MessageType } from '../../src/protocol/messages';
import { topologyNames } from '../../src/protocol/names';
import { derive, NodeTokenAuthority, parseKeyRing, SENDERS, type NodeRole } from '../../src/security';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, rabbitmqctl, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';
import { fuzzParams, sumMetric } from './params';

/**
 * Property-based fuzzing of the message layer: whatever is published straight onto the broker —
 * random bytes, truncated or tampered envelopes, unknown keys, odd headers, forged or misused
 * tokens, stale control messages, payloads that break the schema, oversized bodies — onto any
 * queue or control routing key, every node refuses it, counts it in
 * anki_messages_rejected_total, dead-letters it, keeps running, and nothing reaches a handler.
 */

const MAX_MESSAGE_BYTES = 131_072;
const REPLAY_WINDOW_MS = 60_000;
const ROLES: readonly NodeRole[] = ['principal', 'an', 'ki', 'standalone'];
const CONTROL_TYPES = MESSAGE_TYPES.filter((t) => !QUEUED_TYPES.has(t));
const TAG_PREFIX = 'fuzz-msg-';

// ---- sealing like a node does, with every part under the test's control -----------------------

const keyRing = parseKeyRing(DEV_AES_KEYS);
const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });

interface Head {
  id: string;
  type: string;
  sender: string;
  timestampMs: number;
  kid: string;
}

/** nonce | AES-256-GCM(plain) | tag, with the AAD a node binds (id|type|sender|timestamp|kid). */
function seal(head: Head, plain: string | Buffer, secret: Buffer = keyRing.current.secret): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, nonce, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`${head.id}|${head.type}|${head.sender}|${head.timestampMs}|${head.kid}`));
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** A payload of each type that its schema accepts: what a handler would act on if a check let it through. */
function validPayload(type: MessageType, nowMs: number): unknown {
  const taskId = randomUUID();
  const spec = {
    id: taskId, type: 'echo', payload: { from: 'intruder' }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
    timeoutMs: 1000, maxAttempts: 1, owner: 'mallory', createdAtMs: nowMs,
  };
  switch (type) {
    case 'task.pending': return { v: 1, items: [{ task: spec, attempts: 0 }] };
    case 'task.assign': return { v: 1, an: 'an1', items: [{ task: spec, attempt: 1, gpus: [] }] };
    case 'task.cancel': return { v: 1, taskId, reason: 'intruder' };
    case 'task.started': return { v: 1, taskId, attempt: 1, ki: 'ki1', startedAtMs: nowMs };
    case 'task.progress': return { v: 1, taskId, attempt: 1, fraction: 0.5 };
    case 'task.output':
    case 'task.chunk': return { v: 1, items: [{ v: 1, taskId, attempt: 1, seq: 0, chunks: ['forged output'] }] };
    case 'task.result': return { v: 1, ki: 'ki1', items: [{ taskId, attempt: 1, startedAtMs: nowMs, finishedAtMs: nowMs, ok: true, result: 'forged' }] };
    case 'task.event': return { v: 1, events: [{ taskId, status: 'succeeded', owner: 'alice', attempts: 1, finishedAtMs: nowMs }] };
    case 'task.failed': return { v: 1, taskId, type: 'echo', owner: 'mallory', attempts: 1, code: 'FORGED', failedAtMs: nowMs };
    case 'node.heartbeat': return {
      v: 1, id: 'intruder', role: 'ki', group: 'an1', status: 'alive', startedAtMs: nowMs, version: '0', load: 0,
      slots: { total: 64, busy: 0 }, gpus: [], types: ['echo'], labels: [],
    };
    case 'node.assign': return { v: 1, nodeId: 'ki1', group: 'intruders', term: 1_000_000 };
    case 'model.command': return { v: 1, ki: 'ki1', term: 1_000_000, load: [{ name: 'trojan', type: 'llm', config: { weights: '/etc/shadow' } }], unload: [] };
    case 'election.tick': return { v: 1, from: 'intruder', atMs: nowMs };
    // Names another node than any sender the recipes use: even sealed without a token (the one
    // type that may be), it is refused for its sender.
    case 'node.join': return { v: 1, id: 'intruder', role: 'ki', instance: 'intruder-instance-0001', nonce: 'intruder-nonce-000001', popKey: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) }, proof: 'A'.repeat(43) };
    case 'node.identity': return {
      v: 1, id: 'ki1', instance: 'intruder-instance-0001', nonce: 'intruder-nonce-000001', token: 'x.y.z', expiresAtMs: nowMs + 60_000,
      verifyKeys: [{ kid: 'intruder', pem: 'not a key' }], proof: 'A'.repeat(43),
    };
  }
}

// ---- recipes: small, printable descriptions of one hostile message ------------------------------

type HeaderVariant = 'missing' | 'string' | 'table' | 'array' | 'bool' | 'null' | 'negative' | 'huge' | 'float';

type Recipe =
  | { kind: 'randomBytes'; bytes: number[]; id?: string; type?: string; sender?: string; ts?: HeaderVariant; kid?: string }
  | { kind: 'truncated'; type: MessageType; keepPermille: number }
  | { kind: 'bitFlip'; type: MessageType; at: number; bit: number }
  | { kind: 'tamperedHead'; type: MessageType; field: keyof Head; to: string }
  | { kind: 'oddHeader'; type: MessageType; field: 'messageId' | 'type' | 'appId' | 'x-ts' | 'x-kid'; variant: HeaderVariant }
  | { kind: 'unknownKid'; type: MessageType; kid: string }
  | { kind: 'otherKey'; type: MessageType }
  | { kind: 'oversize'; type: MessageType; bytes: number }
  | { kind: 'badPlain'; type: MessageType; plain: string }
  | { kind: 'badToken'; type: MessageType; token: 'garbage' | 'unsigned' | 'clientSecret' | 'expired' | 'wrongAudience' | 'noRole' | 'number'; text: string }
  | { kind: 'wrongSender'; type: MessageType; sub: string; sender: string }
  | { kind: 'wrongRole'; type: MessageType; role: NodeRole }
  | { kind: 'stale'; type: MessageType; skewMs: number }
  | { kind: 'badSchema'; type: MessageType; payload: unknown };

const messageType = fc.constantFrom(...MESSAGE_TYPES);
const headerVariant = fc.constantFrom<HeaderVariant>('missing', 'string', 'table', 'array', 'bool', 'null', 'negative', 'huge', 'float');
const shortText = fc.string({ unit: 'binary', maxLength: 40 });

/** Payloads near a valid one: one field replaced, so the schema check is the only thing in the way. */
function nearValid(type: MessageType): fc.Arbitrary<unknown> {
  const base = validPayload(type, Date.now()) as Record<string, unknown>;
  const keys = Object.keys(base);
  const nested = base['task'] ? Object.keys(base['task']) : [];
  const firstItem = Array.isArray(base['items']) ? (base['items'][0] as Record<string, unknown>) : undefined;
  const itemKeys = firstItem ? Object.keys(firstItem) : [];
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: fc.anything({ maxDepth: 2 }) }).map(({ key, value }) => ({ ...base, [key]: value })),
    fc.record({ drop: fc.constantFrom(...keys) }).map(({ drop }) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== drop))),
    ...(nested.length ? [fc.record({ key: fc.constantFrom(...nested), value: fc.anything({ maxDepth: 1 }) }).map(({ key, value }) => ({ ...base, task: { ...(base['task'] as object), [key]: value } }))] : []),
    // Batched messages: one field of their one item replaced.
    ...(itemKeys.length ? [fc.record({ key: fc.constantFrom(...itemKeys), value: fc.anything({ maxDepth: 1 }) }).map(({ key, value }) => ({ ...base, items: [{ ...firstItem, [key]: value }] }))] : []),
    fc.anything({ maxDepth: 3 }),
  ).filter((p) => !messageSchemas[type].safeParse(asReceived(p)).success);
}

/**
 * The payload as a node reads it after the JSON round trip: `{ k: undefined }` loses its key,
 * so a payload the schema refuses in memory (strict object, unknown key) can arrive valid.
 */
function asReceived(payload: unknown): unknown {
  return (JSON.parse(JSON.stringify({ payload })) as { payload?: unknown }).payload;
}

const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  fc.record({
    kind: fc.constant('randomBytes' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }),
    id: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }), type: fc.option(fc.oneof(messageType, shortText), { nil: undefined }),
    sender: fc.option(fc.constantFrom('principal1', 'an1', 'ki1', 'intruder', ''), { nil: undefined }), ts: fc.option(headerVariant, { nil: undefined }),
    kid: fc.option(fc.constantFrom(keyRing.current.id, 'dev2', '', '../dev1'), { nil: undefined }),
  }, { requiredKeys: ['kind', 'bytes'] }),
  fc.record({ kind: fc.constant('truncated' as const), type: messageType, keepPermille: fc.integer({ min: 0, max: 999 }) }),
  fc.record({ kind: fc.constant('bitFlip' as const), type: messageType, at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('tamperedHead' as const), type: messageType, field: fc.constantFrom<keyof Head>('id', 'type', 'sender', 'timestampMs', 'kid'), to: fc.oneof(shortText, messageType) }),
  fc.record({ kind: fc.constant('oddHeader' as const), type: messageType, field: fc.constantFrom('messageId' as const, 'type' as const, 'appId' as const, 'x-ts' as const, 'x-kid' as const), variant: headerVariant }),
  fc.record({ kind: fc.constant('unknownKid' as const), type: messageType, kid: fc.string({ minLength: 0, maxLength: 40 }).filter((k) => k !== keyRing.current.id) }),
  fc.record({ kind: fc.constant('otherKey' as const), type: messageType }),
  fc.record({ kind: fc.constant('oversize' as const), type: messageType, bytes: fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: 3 * MAX_MESSAGE_BYTES }) }),
  fc.record({ kind: fc.constant('badPlain' as const), type: messageType, plain: fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 2 }), fc.constantFrom('null', '[]', '{}', '{"token":5}', '{"payload":{}}', '{"token":null,"payload":1}')) }),
  fc.record({
    kind: fc.constant('badToken' as const), type: messageType,
    token: fc.constantFrom('garbage' as const, 'unsigned' as const, 'clientSecret' as const, 'expired' as const, 'wrongAudience' as const, 'noRole' as const, 'number' as const),
    text: fc.string({ maxLength: 60 }),
  }),
  fc.record({ kind: fc.constant('wrongSender' as const), type: messageType, sub: fc.constantFrom('principal1', 'an1', 'ki1'), sender: fc.constantFrom('principal1', 'an1', 'ki1', 'intruder') }).filter((r) => r.sub !== r.sender),
  fc.record({ kind: fc.constant('wrongRole' as const), type: messageType, role: fc.constantFrom(...ROLES) }).filter((r) => !(SENDERS[r.type] as readonly string[]).includes(r.role)),
  fc.record({
    kind: fc.constant('stale' as const), type: fc.constantFrom(...CONTROL_TYPES),
    skewMs: fc.oneof(fc.integer({ min: REPLAY_WINDOW_MS + 10_000, max: 30 * REPLAY_WINDOW_MS }), fc.integer({ min: -30 * REPLAY_WINDOW_MS, max: -(REPLAY_WINDOW_MS + 10_000) })),
  }),
  messageType.chain((type) => nearValid(type).map((payload): Recipe => ({ kind: 'badSchema', type, payload }))),
);

/** A role that may send `type`, and the node id that goes with it. */
function allowedSender(type: MessageType): { role: NodeRole; sub: string } {
  const role = SENDERS[type][0]!;
  return { role, sub: role === 'principal' ? 'principal1' : role === 'an' ? 'an1' : role === 'ki' ? 'ki1' : 'standalone1' };
}

function headerValue(v: HeaderVariant): unknown {
  switch (v) {
    case 'missing': return undefined;
    case 'string': return 'not-a-number';
    case 'table': return { nested: 1 };
    case 'array': return [1, 2];
    case 'bool': return true;
    case 'null': return null;
    case 'negative': return -1;
    case 'huge': return 2 ** 62;
    case 'float': return 1.5;
  }
}

interface Built {
  body: Buffer;
  props: Options.Publish;
}

/** Turns a recipe into bytes and AMQP properties. */
function build(r: Recipe, tag: string): Built {
  const now = Date.now();
  const base = (type: MessageType, over: Partial<Head> = {}): Head => ({ id: randomBytes(16).toString('base64url'), type, sender: allowedSender(type).sub, timestampMs: now, kid: keyRing.current.id, ...over });
  const props = (h: Head): Options.Publish => ({ messageId: h.id, type: h.type, appId: h.sender, correlationId: tag, headers: { 'x-kid': h.kid, 'x-ts': h.timestampMs }, contentType: 'application/octet-stream' });
  // `payload` is taken as given, undefined included (sent without one): a default would turn a
  // recipe's missing payload back into a valid one.
  const plainWith = (token: unknown, payload: unknown) => JSON.stringify({ token, payload });
  const plainFor = (type: MessageType, token: unknown) => plainWith(token, validPayload(type, now));
  const goodToken = (type: MessageType) => { const s = allowedSender(type); return tokens.sign({ sub: s.sub, role: s.role }); };
  const sealed = (type: MessageType, over: Partial<Head> = {}) => { const h = base(type, over); return { h, body: seal(h, plainFor(type, goodToken(type))) }; };

  switch (r.kind) {
    case 'randomBytes': {
      const headers: Record<string, unknown> = {};
      if (r.kid !== undefined) headers['x-kid'] = r.kid;
      if (r.ts !== undefined) headers['x-ts'] = r.ts === 'missing' ? now : headerValue(r.ts);
      return {
        body: Buffer.from(r.bytes),
        props: { correlationId: tag, headers, ...(r.id !== undefined ? { messageId: r.id } : {}), ...(r.type !== undefined ? { type: r.type } : {}), ...(r.sender !== undefined ? { appId: r.sender } : {}) },
      };
    }
    case 'truncated': {
      const { h, body } = sealed(r.type);
      return { body: body.subarray(0, Math.floor((body.length * r.keepPermille) / 1000)), props: props(h) };
    }
    case 'bitFlip': {
      const { h, body } = sealed(r.type);
      const copy = Buffer.from(body);
      const i = r.at % copy.length;
      copy[i] = copy[i]! ^ (1 << r.bit);
      return { body: copy, props: props(h) };
    }
    case 'tamperedHead': {
      const { h, body } = sealed(r.type);
      const tampered: Head = { ...h };
      if (r.field === 'timestampMs') tampered.timestampMs = h.timestampMs + 1 + (r.to.length % 1000);
      else tampered[r.field] = r.to === h[r.field] ? `${r.to}x` : r.to;
      return { body, props: props(tampered) };
    }
    case 'oddHeader': {
      const { h, body } = sealed(r.type);
      const p = props(h);
      const value = headerValue(r.variant);
      if (r.field === 'x-ts' || r.field === 'x-kid') {
        const headers = { ...(p.headers as Record<string, unknown>) };
        if (value === undefined) delete headers[r.field];
        // Any value but the sealed one: the AAD no longer matches, or the header is unusable.
        else headers[r.field] = value === h.timestampMs ? `${String(value)}0` : value;
        p.headers = headers;
      } else if (value === undefined) delete p[r.field];
      else p[r.field] = r.variant === 'string' ? '' : String(value) === h[r.field === 'messageId' ? 'id' : r.field === 'appId' ? 'sender' : 'type'] ? '' : String(value);
      return { body, props: p };
    }
    case 'unknownKid': {
      const h = base(r.type, { kid: r.kid });
      return { body: seal(h, plainFor(r.type, goodToken(r.type))), props: props(h) };
    }
    case 'otherKey': {
      const h = base(r.type);
      return { body: seal(h, plainFor(r.type, goodToken(r.type)), randomBytes(32)), props: props(h) };
    }
    case 'oversize': {
      const h = base(r.type);
      return { body: seal(h, plainWith(goodToken(r.type), { v: 1, filler: 'x'.repeat(r.bytes) })), props: props(h) };
    }
    case 'badPlain': {
      const h = base(r.type);
      return { body: seal(h, r.plain), props: props(h) };
    }
    case 'badToken': {
      const s = allowedSender(r.type);
      const token = r.token === 'garbage' ? r.text
        : r.token === 'number' ? 42
          : r.token === 'unsigned' ? `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: s.sub, role: s.role, aud: 'anki-node', exp: Math.floor(now / 1000) + 600 })).toString('base64url')}.`
            // The client-token secret itself: node tokens use a key derived from it, so this must fail.
            : r.token === 'clientSecret' ? signRaw({ sub: s.sub, role: s.role, aud: 'anki-node', exp: Math.floor(now / 1000) + 600 }, DEV_JWT_SECRET)
              : r.token === 'expired' ? tokens.sign({ sub: s.sub, role: s.role }, -120)
                : r.token === 'wrongAudience' ? signRaw({ sub: s.sub, role: s.role, aud: 'anki-client', exp: Math.floor(now / 1000) + 600 }, nodeKeyForTests())
                  : signRaw({ sub: s.sub, aud: 'anki-node', exp: Math.floor(now / 1000) + 600 }, nodeKeyForTests());
      const h = base(r.type);
      return { body: seal(h, plainFor(r.type, token)), props: props(h) };
    }
    case 'wrongSender': {
      const h = base(r.type, { sender: r.sender });
      const role = allowedSender(r.type).role;
      return { body: seal(h, plainFor(r.type, tokens.sign({ sub: r.sub, role }))), props: props(h) };
    }
    case 'wrongRole': {
      const sub = `${r.role}-node`;
      const h = base(r.type, { sender: sub });
      return { body: seal(h, plainFor(r.type, tokens.sign({ sub, role: r.role }))), props: props(h) };
    }
    case 'stale': {
      const h = base(r.type, { timestampMs: now - r.skewMs });
      return { body: seal(h, plainFor(r.type, goodToken(r.type))), props: props(h) };
    }
    case 'badSchema': {
      const h = base(r.type);
      return { body: seal(h, plainWith(goodToken(r.type), r.payload)), props: props(h) };
    }
  }
}

// Node tokens are HS256 with a key derived from the JWT secret; the test derives it the same way
// to sign tokens that are authentic but wrong in one claim.
function nodeKeyForTests(): Buffer {
  return derive(DEV_JWT_SECRET, 'anki/node-token/hs256');
}
function signRaw(claims: Record<string, unknown>, key: string | Buffer): string {
  const head = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

// ---- where messages go --------------------------------------------------------------------------

type Target = { queue: string } | { exchange: string; routingKey: string };

function describeTarget(t: Target): string {
  return 'queue' in t ? `queue ${t.queue}` : `${t.exchange} ${t.routingKey}`;
}

/** RabbitMQ topic matching: `*` is one word, `#` zero or more. */
function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return go(i + 1, j) || (j < k.length && go(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

describe('the message layer under fuzzed messages published straight onto the broker', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let nodes: NodeProcess[];
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  let names: ReturnType<typeof topologyNames>;
  let targets: { target: Target; copies: number }[] = [];
  let tasksBefore: unknown[];
  let tagCounter = 0;
  /** How many dead-lettered copies each tag should leave behind. */
  const expectedCopies = new Map<string, number>();

  const rejectedTotal = async (): Promise<number> => {
    const texts = await Promise.all(nodes.map((n) => n.metrics()));
    return texts.reduce((sum, t) => sum + sumMetric(t, 'anki_messages_rejected_total'), 0);
  };

  const taskRows = async (): Promise<unknown[]> => {
    const c = new pg.Client({ connectionString: iso.databaseUrl });
    await c.connect();
    try {
      const r = await c.query('SELECT id, status, attempts, an, ki, priority, result, error, owner FROM tasks ORDER BY id');
      return r.rows;
    } finally {
      await c.end();
    }
  };

  async function publish(t: Target, m: Built): Promise<void> {
    if ('queue' in t) ch.sendToQueue(t.queue, m.body, m.props);
    else ch.publish(t.exchange, t.routingKey, m.body, m.props);
    await ch.waitForConfirms();
  }

  /** Publishes one message and waits until every copy of it was counted as rejected. */
  async function sendAndExpectRejection(t: { target: Target; copies: number }, r: Recipe): Promise<void> {
    const tag = `${TAG_PREFIX}${++tagCounter}`;
    const built = build(r, tag);
    const before = await rejectedTotal();
    expectedCopies.set(tag, t.copies);
    await publish(t.target, built);
    const after = await waitFor(rejectedTotal, (v) => v >= before + t.copies, {
      timeoutMs: 10_000, intervalMs: 20, what: `${t.copies} rejection(s) of a ${r.kind} message on ${describeTarget(t.target)}`,
    });
    assert.equal(after, before + t.copies, `each copy is counted once (${r.kind} on ${describeTarget(t.target)})`);
    for (const n of nodes) assert.ok(n.alive, `${n.id} is still running`);
  }

  before(async () => {
    iso = await createIsolation('fuzzmsg');
    names = topologyNames(iso.prefix);
    // DEAD_LETTER_STORE_MAX=0: every rejected copy stays in the broker's dead-letter queue, where this
    // test counts them (the principals' move of dead letters into the store is tested in test/e2e/dead-letters.test.ts).
    cluster = new TestCluster(iso, { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES), REPLAY_WINDOW_MS: String(REPLAY_WINDOW_MS), KI_SLOTS: '2', LOG_LEVEL: 'error', DEAD_LETTER_STORE_MAX: '0' });
    nodes = [await cluster.start('principal', { id: 'principal1' }), await cluster.start('an', { id: 'an1' }), await cluster.start('ki', { id: 'ki1' })];
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.get('/healthz'), (r) => r.status === 200, { what: 'REST port answering' });
    const warm = await api.post('/tasks', { type: 'echo', payload: 'warm-up' });
    assert.equal(warm.status, 201);
    await waitFor(() => api.get(`/tasks/${warm.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'warm-up task succeeded' });

    conn = await amqplib.connect(iso.amqpUrl);
    ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);

    // Every queue a node consumes, and each control routing key with the number of queues it reaches.
    // list_consumers reads the channels' consumer records; list_queues' count of a quorum queue lags.
    const direct = [...names.pendingBands, names.inbox('ki', 'ki1'), names.inbox('an', 'an1'), names.election];
    await waitFor(async () => new Set((await rabbitmqctl('list_consumers', '-p', iso.vhost, 'queue_name', '--no-table-headers')).split('\n').map((l) => l.trim())),
      (consumed) => direct.every((q) => consumed.has(q)), { timeoutMs: 20_000, intervalMs: 500, what: `a consumer on each of ${direct.join(', ')}` });
    const bindings = (await rabbitmqctl('list_bindings', '-p', iso.vhost, 'source_name', 'destination_name', 'routing_key', '--no-table-headers')).trim().split('\n')
      .map((l) => l.trim().split(/\s+/)).filter(([source]) => source === names.control);
    const copiesOf = (key: string) => new Set(bindings.filter(([, , pattern]) => topicMatches(pattern!, key)).map(([, dest]) => dest)).size;
    const keys = ['heartbeat.ki.x', 'cancel.ki1', 'event.task.succeeded', 'assign.ki1', 'heartbeat.an.an1'];
    targets = [
      ...direct.map((queue) => ({ target: { queue }, copies: 1 })),
      ...keys.map((routingKey) => ({ target: { exchange: names.control, routingKey }, copies: copiesOf(routingKey) })),
    ];
    for (const key of ['heartbeat.ki.x', 'cancel.ki1', 'event.task.succeeded']) assert.ok(copiesOf(key) >= 1, `${key} reaches a node: ${JSON.stringify(bindings)}`);
    tasksBefore = await taskRows();
  });

  after(async () => {
    await conn?.close().catch(() => undefined);
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('uses payloads that its schema accepts, so each rejection is due to the one thing made wrong', () => {
    for (const type of MESSAGE_TYPES) assert.ok(messageSchemas[type].safeParse(validPayload(type, Date.now())).success, `${type} template is valid`);
    // A strict object with a key whose value is undefined is refused in memory but valid once sent.
    const pending = validPayload('task.pending', Date.now()) as { items: { task: Record<string, unknown> }[] };
    const item = pending.items[0]!;
    const loose = { ...pending, items: [{ ...item, task: { ...item.task, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [], stray: undefined } } }] };
    assert.equal(messageSchemas['task.pending'].safeParse(loose).success, false);
    assert.equal(messageSchemas['task.pending'].safeParse(asReceived(loose)).success, true, 'so badSchema payloads are checked as received');
  });

  it('rejects, counts and dead-letters garbage on every queue kind and control routing key', async () => {
    const dead = async () => (await ch.checkQueue(names.deadLetterQueue)).messageCount;
    const deadBefore = await dead();
    let copies = 0;
    for (const t of targets) {
      await sendAndExpectRejection(t, { kind: 'randomBytes', bytes: [...randomBytes(64)], id: 'x', type: 'task.assign', sender: 'ki1', kid: keyRing.current.id });
      copies += t.copies;
    }
    await waitFor(dead, (n) => n >= deadBefore + copies, { what: `${copies} messages dead-lettered into ${names.deadLetterQueue}` });
  });

  it('rejects and counts every fuzzed message on every target, and the nodes keep running', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(), recipe, async (which, r) => {
      await sendAndExpectRejection(targets[which % targets.length]!, r);
    }), fuzzParams(100, 45_000));
  });

  it('dead-letters every copy of every rejected message', async () => {
    const wanted = [...expectedCopies.values()].reduce((a, b) => a + b, 0);
    await waitFor(async () => (await ch.checkQueue(names.deadLetterQueue)).messageCount, (n) => n >= wanted, { what: `${wanted} dead letters` });
    const seen = new Map<string, number>();
    for (let i = 0; i < wanted + 500; i++) {
      const m = await ch.get(names.deadLetterQueue, { noAck: true });
      if (m === false) break;
      const tag = String(m.properties.correlationId ?? '');
      if (tag.startsWith(TAG_PREFIX)) seen.set(tag, (seen.get(tag) ?? 0) + 1);
    }
    const missing = [...expectedCopies].filter(([tag, n]) => (seen.get(tag) ?? 0) !== n);
    assert.deepEqual(missing.map(([tag, n]) => `${tag}: ${seen.get(tag) ?? 0} of ${n}`), [], 'each rejected copy is in the dead-letter queue exactly once');
  });

  it('let nothing reach a handler: no task, member or group changed, and a normal task still succeeds', async () => {
    assert.deepEqual(await taskRows(), tasksBefore, 'no task was created or changed by the fuzzed messages');
    const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
    const members = await ops.get('/nodes');
    assert.equal(members.status, 200);
    const ids = members.body.items.map((n: { id: string }) => n.id).sort();
    assert.deepEqual(ids, ['an1', 'ki1', 'principal1'], 'no forged member joined');
    const ki = members.body.items.find((n: { id: string }) => n.id === 'ki1');
    assert.equal(ki.group, 'an1', 'no forged assignment moved the Ki');
    for (const n of nodes) {
      assert.ok(n.alive, `${n.id} is still running`);
      assert.ok(!n.logs.some((l) => l.includes('message handler failed')), `${n.id} never ran a handler on a fuzzed message: ${n.logs.filter((l) => l.includes('handler failed')).slice(0, 3).join('\n')}`);
    }

    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const created = await api.post('/tasks', { type: 'echo', payload: { after: 'fuzzing' } });
    assert.equal(created.status, 201);
    const done = await waitFor(() => api.get(`/tasks/${created.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'a normal task succeeds' });
    assert.deepEqual(done.body.result, { after: 'fuzzing' });
  });
});
