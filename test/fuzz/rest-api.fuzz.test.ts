import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { METHODS } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DEV_JWT_SECRET } from '../../src/config/schema';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { mapLimit, waitFor } from '../helpers/wait';
import { fuzzParams, sumMetric } from './params';
import { rawRequest, type HeaderValue, type RawRequest, type RawResponse } from './raw-http';

/**
 * Property-based fuzzing of the principal's REST API against one real cluster. Whatever arrives —
 * malformed or hostile bodies, headers, tokens, paths, queries, methods — the answer is a 2xx or a
 * 4xx, errors are problem+json, and the principal keeps running.
 */

const MAX_BODY_BYTES = 65_536;
/** Node's own HTTP parser refuses request heads above this (431) before the application sees them. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;

// ---- checking an answer -----------------------------------------------------------------------

function describeExchange(req: RawRequest, res: RawResponse): string {
  const body = res.body.toString('utf8');
  return `${req.method} ${req.path.slice(0, 160)}${req.path.length > 160 ? '…' : ''} (body ${req.body?.length ?? 0} B) → ${res.status} ${res.headers['content-type'] ?? '-'} ${body.slice(0, 300)}`;
}

/** True when the answer came from the application rather than from Node's HTTP parser. */
function fromApplication(res: RawResponse): boolean {
  return res.headers['x-content-type-options'] === 'nosniff';
}

/**
 * The contract of every answer: a 2xx or a 4xx; an error is problem+json whose `status` matches;
 * a success of the API with a body is JSON. Requests that Node's HTTP parser refuses before the application
 * sees them (control bytes in a header, a head over 16 KiB) get Node's bare 400 or 431.
 */
function checkAnswer(req: RawRequest, res: RawResponse): unknown {
  const what = describeExchange(req, res);
  assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), `answer is a 2xx or a 4xx: ${what}`);
  if (!fromApplication(res)) {
    assert.ok(res.status === 400 || res.status === 431, `only Node's HTTP parser answers without the application's headers, and only with 400 or 431: ${what}`);
    return undefined;
  }
  if (req.method === 'HEAD') return undefined;
  if (res.status >= 400) {
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, `an error is problem+json: ${what}`);
    let problem: Record<string, unknown>;
    try {
      problem = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      assert.fail(`a problem+json body parses as JSON: ${what}`);
    }
    assert.equal(problem['status'], res.status, `problem status matches the HTTP status: ${what}`);
    for (const field of ['type', 'title', 'detail']) assert.equal(typeof problem[field], 'string', `problem has a string ${field}: ${what}`);
    return problem;
  }
  // Outside the API (e.g. the dashboard's pages) a success may be any media type.
  if (res.body.length === 0 || !/^\/(tasks|nodes|cluster|healthz|readyz)([/?#]|$)/.test(req.path)) return undefined;
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, `a success of the API with a body is JSON: ${what}`);
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch {
    assert.fail(`a JSON body parses: ${what}`);
  }
}

// ---- building blocks --------------------------------------------------------------------------

const b64url = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v) ?? 'null', 'utf8').toString('base64url');

/** An HS256 JWT built by hand, so that any header and any claims can be signed. */
function signHs256(header: unknown, claims: unknown, secret: string): string {
  const head = `${b64url(header)}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as a browser would send). */
function pctEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A value from `arb` once in `oneIn` cases, undefined otherwise. */
function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hazardUnit = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\uffff', '\ufeff', '\u202e', '\u2028', '\\', '"', '\n', '%', '%00', '..', '/', '\u00e9', '\u{1f600}') },
);
/** Strings with the characters that break parsers and stores: NUL, lone surrogates, controls, quotes. */
const hazardString = fc.string({ unit: hazardUnit, maxLength: 40 });
/** Long strings, built by repetition (a generated 60 KB string is slow to shrink). */
const longString = fc.record({ unit: hazardString, times: fc.integer({ min: 100, max: 4000 }) }).map(({ unit, times }) => (unit || 'x').repeat(times).slice(0, 60_000));

const weirdNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(-0, 0.5, 4.5, 9.000001, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -(2 ** 31) - 1),
);
/** Number-ish JSON texts, some of them not JSON at all. */
const numberText = fc.constantFrom(
  'NaN', 'Infinity', '-Infinity', '-0', '0', '1e308', '1e309', '-1e400', '1e-400', '4.5', '5.0', '5e0', '0x5', '05', '+5', '.5', '5.',
  '"5"', '"NaN"', 'null', 'true', '[5]', '{}', '9'.repeat(400), `1${'0'.repeat(30)}`, '--1', '5 5', '1_000',
);

/** A task submission, from nearly right to absurd; never a task that would keep a Ki busy. */
const taskLike = fc.record({
  type: fc.oneof(fc.constantFrom('echo', 'fail', 'no-such-type', '', 'a'.repeat(129), 'échø', 'a b', 'x\u0000', 'echo\n'), hazardString)
    .map((t) => (t === 'sleep' || t === 'cpu' ? 'echo' : t)),
  payload: fc.oneof(fc.anything({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), hazardString, weirdNumber),
  task_data: fc.anything({ maxDepth: 2 }),
  priority: fc.oneof(weirdNumber, fc.string({ maxLength: 4 }), fc.constant(null)),
  requirements: fc.oneof(
    fc.record({ gpus: weirdNumber, gpuMemoryMiB: weirdNumber, labels: fc.oneof(fc.array(hazardString, { maxLength: 40 }), fc.anything({ maxDepth: 1 })) }, { requiredKeys: [] }),
    fc.anything({ maxDepth: 2 }),
  ),
  timeoutMs: weirdNumber,
  maxAttempts: fc.oneof(fc.integer({ min: -1, max: 101 }), weirdNumber),
  redundancy: fc.oneof(fc.record({ replicas: fc.integer({ min: -1, max: 17 }), quorum: fc.integer({ min: -1, max: 17 }) }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
  colour: hazardString,
}, { requiredKeys: [] });

/** A submission the schema accepts, whose payload carries the hazards; sometimes one field is off. */
const nearlyValidTask = fc.record({
  type: fc.constantFrom('echo', 'fail', 'no-such-type', 'a.b:c-d_e'),
  payload: fc.oneof(hazardString, fc.anything({ maxDepth: 3, values: [hazardString, weirdNumber, fc.boolean(), fc.constant(null)] }), weirdNumber, longString),
  priority: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
  requirements: fc.option(fc.record({ gpus: fc.constant(0), labels: fc.array(hazardString.filter((l) => l.length > 0 && l.length <= 64), { maxLength: 3 }) }, { requiredKeys: [] }), { nil: undefined }),
  maxAttempts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: undefined }),
  off: sometimes(fc.record({ field: fc.constantFrom('type', 'priority', 'requirements', 'maxAttempts', 'timeoutMs', 'redundancy', 'task_data', 'extra'), value: fc.oneof(weirdNumber, hazardString, fc.anything({ maxDepth: 1 })) }), 4),
}).map(({ off, ...task }) => {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(task).filter(([, v]) => v !== undefined));
  if (off) out[off.field] = off.value;
  return out;
});

/** Recipes of request bodies; the bytes are built in the predicate so counterexamples stay readable. */
type BodyRecipe =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'badUtf8InString'; bytes: number[] }
  | { kind: 'deep'; depth: number; open: '[' | '{"a":'; at: 'body' | 'payload' | 'requirements' | 'batch' }
  | { kind: 'bigArray'; length: number; item: string; at: 'payload' | 'batch' }
  | { kind: 'oversize'; bytes: number }
  | { kind: 'number'; field: string; text: string }
  | { kind: 'truncated'; text: string; keep: number };

const bodyRecipe: fc.Arbitrary<BodyRecipe> = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ maxDepth: 4 }).map((v): BodyRecipe => ({ kind: 'text', text: JSON.stringify(v) ?? '' })) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map((text): BodyRecipe => ({ kind: 'text', text })) },
  { weight: 4, arbitrary: taskLike.map((t): BodyRecipe => ({ kind: 'text', text: JSON.stringify(t) })) },
  { weight: 12, arbitrary: nearlyValidTask.map((t): BodyRecipe => ({ kind: 'text', text: JSON.stringify(t) })) },
  { weight: 3, arbitrary: fc.array(nearlyValidTask, { minLength: 1, maxLength: 10 }).map((tasks): BodyRecipe => ({ kind: 'text', text: JSON.stringify({ tasks }) })) },
  { weight: 2, arbitrary: fc.array(taskLike, { maxLength: 20 }).map((tasks): BodyRecipe => ({ kind: 'text', text: JSON.stringify({ tasks }) })) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map((tasks): BodyRecipe => ({ kind: 'text', text: JSON.stringify({ tasks }) ?? '' })) },
  { weight: 1, arbitrary: longString.map((s): BodyRecipe => ({ kind: 'text', text: JSON.stringify({ type: 'echo', payload: s }) })) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 600 }).map((bytes): BodyRecipe => ({ kind: 'bytes', bytes })) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 12 }).map((bytes): BodyRecipe => ({ kind: 'badUtf8InString', bytes })) },
  {
    weight: 2,
    arbitrary: fc.record({ depth: fc.integer({ min: 1, max: 30_000 }), open: fc.constantFrom('[' as const, '{"a":' as const), at: fc.constantFrom('body' as const, 'payload' as const, 'requirements' as const, 'batch' as const) })
      .map((r): BodyRecipe => ({ kind: 'deep', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ length: fc.integer({ min: 1000, max: 20_000 }), item: fc.constantFrom('1', '-0', '1e308', '"x"', 'null', '{}', '[]', '"\\u0000"'), at: fc.constantFrom('payload' as const, 'batch' as const) })
      .map((r): BodyRecipe => ({ kind: 'bigArray', ...r })),
  },
  { weight: 1, arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: 3 * MAX_BODY_BYTES }).map((bytes): BodyRecipe => ({ kind: 'oversize', bytes })) },
  { weight: 2, arbitrary: fc.record({ field: fc.constantFrom('priority', 'timeoutMs', 'maxAttempts', 'payload', 'type'), text: numberText }).map((r): BodyRecipe => ({ kind: 'number', ...r })) },
  { weight: 1, arbitrary: taskLike.chain((t) => { const text = JSON.stringify(t); return fc.integer({ min: 0, max: text.length }).map((keep): BodyRecipe => ({ kind: 'truncated', text, keep })); }) },
);

function buildBody(r: BodyRecipe): Buffer {
  switch (r.kind) {
    case 'text': return Buffer.from(r.text, 'utf8');
    case 'bytes': return Buffer.from(r.bytes);
    case 'badUtf8InString': return Buffer.concat([Buffer.from('{"type":"echo","payload":"'), Buffer.from(r.bytes), Buffer.from('"}')]);
    case 'deep': {
      const close = r.open === '[' ? ']' : '}';
      const nested = `${r.open.repeat(r.depth)}1${close.repeat(r.depth)}`;
      const text = r.at === 'body' ? nested
        : r.at === 'payload' ? `{"type":"echo","payload":${nested}}`
          : r.at === 'requirements' ? `{"type":"echo","requirements":{"labels":${nested}}}`
            : `{"tasks":[{"type":"echo","payload":${nested}}]}`;
      return Buffer.from(text);
    }
    case 'bigArray': {
      const arr = `[${Array.from({ length: r.length }, () => r.item).join(',')}]`;
      return Buffer.from(r.at === 'payload' ? `{"type":"echo","payload":${arr}}` : `{"tasks":[{"type":"echo","payload":${arr}}]}`);
    }
    case 'oversize': return Buffer.concat([Buffer.from('{"type":"echo","payload":"'), Buffer.alloc(r.bytes, 'x'), Buffer.from('"}')]);
    case 'number': return Buffer.from(`{"type":"echo","${r.field}":${r.text}}`);
    case 'truncated': return Buffer.from(r.text.slice(0, r.keep), 'utf8');
  }
}

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=bogus', 'APPLICATION/JSON', 'application/problem+json',
      'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', '', 'json', ';;;', 'application/json; charset=',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).filter((s) => !/[\r\n]/.test(s)) },
);

/** Idempotency-Key values, odd bytes included (never CR or LF, which would end the header). */
const idempotencyKey: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
  fc.constantFrom('', ' ', 'a'.repeat(201), 'key with spaces', 'ключ', '\u00ff\u00fe'),
  fc.array(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0d && b !== 0x0a), { minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

// ---- the suite --------------------------------------------------------------------------------

describe('the REST API under fuzzed input (one real principal, An and Ki)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let principal: NodeProcess;
  let port: number;
  /** Tasks that exist, so that path fuzzing also reaches real rows. */
  const knownIds: string[] = [];
  const tokens: Record<'admin' | 'operator' | 'submitter' | 'viewer', string> = { admin: '', operator: '', submitter: '', viewer: '' };

  const send = (req: RawRequest) => rawRequest(port, req, { timeoutMs: 15_000 });
  const auth = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];

  before(async () => {
    iso = await createIsolation('fuzzrest');
    // Valid submissions range over every priority: lift the submitter's default ceiling of 5.
    cluster = new TestCluster(iso, { MAX_BODY_BYTES: String(MAX_BODY_BYTES), KI_SLOTS: '4', LOG_LEVEL: 'warn', TASK_LIMITS: '{"submitter":{"maxPriority":9}}' });
    principal = await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    port = principal.httpPort!;
    tokens.admin = cluster.token('root', 'admin');
    tokens.operator = cluster.token('ops', 'operator');
    tokens.submitter = cluster.token('alice', 'submitter');
    tokens.viewer = cluster.token('alice', 'viewer');
    const api = new Api(cluster.url(), tokens.submitter);
    await waitFor(() => api.get('/healthz'), (r) => r.status === 200, { what: 'REST port answering' });
    const first = await api.post('/tasks', { type: 'echo', payload: 'warm-up' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    await waitFor(() => api.get(`/tasks/${first.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'warm-up task succeeded' });
    const batch = await api.post('/tasks/batch', { tasks: [{ type: 'echo', payload: 1 }, { type: 'fail', payload: { message: 'x' } }, { type: 'echo', payload: 2, priority: 0 }] });
    assert.equal(batch.status, 201);
    knownIds.push(first.body.id, ...batch.body.ids);
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && principal) {
      const errors = principal.logs.filter((l) => /"level":"(error|fatal)"/.test(l)).slice(-5);
      if (errors.length) console.error(`principal errors:\n${errors.join('\n')}`);
    }
  });

  it('answers every task submission body, header and framing with a 2xx or a 4xx, and too large bodies with 413', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        body: bodyRecipe,
        /** Mostly the route the body was made for, sometimes the other one. */
        otherRoute: fc.nat(9).map((n) => n === 0),
        contentType: fc.option(contentType, { nil: undefined }),
        idempotencyKey: sometimes(idempotencyKey, 4),
        role: fc.constantFrom('admin' as const, 'operator' as const, 'submitter' as const),
        framing: fc.constantFrom('length' as const, 'length' as const, 'chunked' as const, 'declaredTooLarge' as const, 'gzip' as const),
        encoding: sometimes(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus'), 8),
      }),
      async (c) => {
        const batchBody = (c.body.kind === 'text' && c.body.text.startsWith('{"tasks"')) || ((c.body.kind === 'deep' || c.body.kind === 'bigArray') && c.body.at === 'batch');
        const path = batchBody !== c.otherRoute ? '/tasks/batch' : '/tasks';
        let body = buildBody(c.body);
        const decodedLength = body.length;
        const headers: [string, HeaderValue][] = [auth(tokens[c.role])];
        if (c.contentType !== undefined) headers.push(['Content-Type', c.contentType]);
        if (c.idempotencyKey !== undefined) headers.push(['Idempotency-Key', c.idempotencyKey]);
        if (c.framing === 'gzip') {
          body = gzipSync(body);
          headers.push(['Content-Encoding', 'gzip']);
        } else if (c.encoding !== undefined) headers.push(['Content-Encoding', c.encoding]);
        const req: RawRequest = {
          method: 'POST', path, headers, body,
          ...(c.framing === 'chunked' ? { chunked: true } : {}),
          ...(c.framing === 'declaredTooLarge' ? { declaredLength: MAX_BODY_BYTES + 1 + body.length } : {}),
        };
        const res = await send(req);
        const parsed = checkAnswer(req, res) as Record<string, unknown> | undefined;
        if (!fromApplication(res)) return;
        // Which bodies must be refused as too large: a declared Content-Length above the limit
        // always; a chunked one only without a Content-Encoding (a bad encoding may be the first error).
        const tooLarge = c.framing === 'declaredTooLarge'
          || ((c.framing === 'length' || c.framing === 'gzip') && body.length > MAX_BODY_BYTES)
          || (c.framing === 'chunked' && c.encoding === undefined && body.length > MAX_BODY_BYTES)
          || (c.framing === 'gzip' && decodedLength > MAX_BODY_BYTES);
        if (tooLarge) assert.equal(res.status, 413, `a body above MAX_BODY_BYTES is refused with 413: ${describeExchange(req, res)}`);
        if (res.status === 201 && path === '/tasks') {
          assert.match(String(parsed?.['id']), /^[0-9a-f-]{36}$/, 'a created task has an id');
          assert.equal(parsed?.['status'], 'queued');
          assert.equal(res.headers['location'], `/tasks/${parsed?.['id']}`);
        }
        if (res.status === 201 && path === '/tasks/batch') assert.ok(Array.isArray(parsed?.['ids']), 'a created batch lists its ids');
        if (res.status >= 400 && typeof parsed?.['taskId'] === 'string') {
          // An error that names a task says it was not stored: it must not half-exist.
          const check = await send({ method: 'GET', path: `/tasks/${parsed['taskId']}`, headers: [auth(tokens.admin)] });
          assert.equal(check.status, 404, `task ${parsed['taskId']} named by an error answer does not exist`);
        }
      },
    ), fuzzParams(250, 40_000));
  });

  it('answers any query string of GET /tasks with a page or a 4xx', async () => {
    const cursor = fc.oneof(
      fc.record({ at: fc.date({ noInvalidDate: true }), id: fc.oneof(fc.uuid(), hazardString), sep: fc.constantFrom('|', '||', '') })
        .map(({ at, id, sep }) => Buffer.from(`${at.toISOString()}${sep}${id}`, 'utf8').toString('base64url')),
      fc.record({ text: hazardString }).map(({ text }) => Buffer.from(text, 'utf8').toString('base64url')),
      hazardString.map(pctEncode),
      fc.constantFrom('', '%FF', '%E0%A4%A', '====', 'a.b', '%00', 'x'.repeat(201), Buffer.from('+275760-09-13T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url')),
    );
    const value = fc.oneof(
      numberText.map(pctEncode),
      hazardString.map(pctEncode),
      fc.constantFrom('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dispatched', 'QUEUED', 'echo', 'alice', '', '%', '%0', '%zz', '%00', '%FF', '%E0%A4%A', '+', '%2B', '1%2C2'),
      cursor,
    );
    const knownKey = fc.constantFrom('limit', 'cursor', 'status', 'type', 'owner');
    const oddKey = fc.oneof(
      fc.constantFrom('status[]', 'limit[0]', '__proto__', 'constructor', 'toString', '', '%00', '%FF', 'a%5Bb%5D'),
      hazardString.map(pctEncode),
    );
    /** Values that pass the schema, so that a garbage pair next to them reaches the code behind it. */
    const plausible = fc.oneof(
      fc.integer({ min: 1, max: 1000 }).map((n) => ['limit', String(n)] as const),
      fc.constantFrom('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dispatched').map((v) => ['status', v] as const),
      fc.constantFrom('echo', 'fail').map((v) => ['type', v] as const),
      fc.constantFrom('alice', 'root').map((v) => ['owner', v] as const),
      fc.record({ at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), id: fc.uuid() })
        .map(({ at, id }) => ['cursor', Buffer.from(`${at.toISOString()}|${id}`).toString('base64url')] as const),
    ).map(([k, v]) => [k, v, true] as [string, string, boolean]);
    /** Well-formed cursors at any instant a JavaScript Date can hold (the store's range is narrower). */
    const anyInstantCursor = fc.record({ at: fc.date({ noInvalidDate: true }), id: fc.uuid() })
      .map(({ at, id }) => ['cursor', Buffer.from(`${at.toISOString()}|${id}`).toString('base64url'), true] as [string, string, boolean]);
    const garbage = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(knownKey, value, fc.boolean()) },
      { weight: 1, arbitrary: fc.tuple(oddKey, value, fc.boolean()) },
      { weight: 1, arbitrary: anyInstantCursor },
    );
    await fc.assert(fc.asyncProperty(
      fc.record({
        plausible: fc.uniqueArray(plausible, { selector: (p) => p[0], maxLength: 4 }),
        garbage: fc.array(garbage, { maxLength: 2 }),
        role: fc.constantFrom('admin' as const, 'operator' as const, 'submitter' as const, 'viewer' as const),
        tail: fc.constantFrom('', '&', '&&', '#frag', '?', '='),
      }),
      async (c) => {
        // A garbage pair replaces the plausible one of its key (a repeated key is an array, refused as such).
        const pairs = [...c.plausible.filter(([k]) => !c.garbage.some(([g]) => g === k)), ...c.garbage];
        const query = pairs.map(([k, v, withValue]) => (withValue ? `${k}=${v}` : k)).join('&') + c.tail;
        const req: RawRequest = { method: 'GET', path: `/tasks?${query}`, headers: [auth(tokens[c.role])] };
        const res = await send(req);
        const parsed = checkAnswer(req, res) as { items?: unknown; nextCursor?: unknown } | undefined;
        if (res.status === 200 && fromApplication(res)) {
          assert.ok(Array.isArray(parsed?.items), `a page has items: ${describeExchange(req, res)}`);
          assert.ok(parsed?.nextCursor === null || typeof parsed?.nextCursor === 'string', 'nextCursor is a string or null');
        }
      },
    ), fuzzParams(200, 25_000));
  });

  it('answers any task id in a path, for every verb on a task, with a 2xx or a 4xx', async () => {
    const id = fc.oneof(
      { weight: 2, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.constantFrom(...(knownIds.length ? knownIds : ['00000000-0000-4000-8000-000000000000'])) },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '..', '.', '%2e%2e', '%2E%2E%2F%2E%2E', '%00', '%2F', 'a%2Fb', '..%2F..%2Fcluster', '%25', '%', '%zz', '%FF%FE', '%E0%A4%A', '00000000-0000-0000-0000-000000000000',
          'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF', '00000000-0000-4000-8000-000000000000%00', '{id}', ':id', 'null', 'undefined', '-1', '0', '1e308', 'NaN', '__proto__', 'constructor',
        ),
      },
      { weight: 2, arbitrary: hazardString.filter((s) => s.length > 0).map(pctEncode) },
      { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
      { weight: 1, arbitrary: fc.integer({ min: 200, max: 8000 }).map((n) => 'a'.repeat(n)) },
      { weight: 1, arbitrary: fc.integer({ min: NODE_MAX_HEADER_BYTES, max: 2 * NODE_MAX_HEADER_BYTES }).map((n) => '9'.repeat(n)) },
    );
    const verb = fc.constantFrom(
      { method: 'GET', suffix: '' }, { method: 'PATCH', suffix: '' }, { method: 'DELETE', suffix: '' }, { method: 'POST', suffix: '/cancel' },
      { method: 'GET', suffix: '/cancel' }, { method: 'POST', suffix: '/../cancel' }, { method: 'GET', suffix: '/' }, { method: 'GET', suffix: '//x' },
    );
    await fc.assert(fc.asyncProperty(
      fc.record({
        id, verb,
        body: fc.option(fc.oneof(fc.record({ priority: weirdNumber }).map((b) => JSON.stringify(b)), fc.json({ maxDepth: 2 }), hazardString), { nil: undefined }),
        role: fc.constantFrom('admin' as const, 'operator' as const, 'submitter' as const, 'viewer' as const),
      }),
      async (c) => {
        const req: RawRequest = {
          method: c.verb.method, path: `/tasks/${c.id}${c.verb.suffix}`, headers: [auth(tokens[c.role]), ['Content-Type', 'application/json']],
          ...(c.body !== undefined ? { body: Buffer.from(c.body, 'utf8') } : {}),
        };
        const res = await send(req);
        checkAnswer(req, res);
        if (fromApplication(res) && c.verb.suffix === '' && !knownIds.includes(c.id) && c.verb.method === 'GET') {
          assert.equal(res.status, 404, `an id that names no task is not found: ${describeExchange(req, res)}`);
        }
      },
    ), fuzzParams(200, 25_000));
  });

  it('answers arbitrary, forged and oversized Authorization headers with a 2xx or a 4xx, and refuses every token not signed with the secret', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const claims = fc.record({
      sub: fc.oneof(fc.constantFrom('alice', 'root', ''), hazardString, fc.anything({ maxDepth: 1 })),
      role: fc.oneof(fc.constantFrom('admin', 'operator', 'submitter', 'viewer', 'root', 'ADMIN', ''), fc.anything({ maxDepth: 1 })),
      roles: fc.oneof(fc.array(fc.constantFrom('admin', 'viewer', 'x', '', 'submitter')), fc.anything({ maxDepth: 1 })),
      exp: fc.oneof(fc.constant(nowSec + 3600), fc.constant(nowSec - 3600), weirdNumber, fc.string({ maxLength: 12 })),
      nbf: fc.oneof(fc.constant(nowSec + 3600), weirdNumber),
      iat: weirdNumber,
      aud: fc.oneof(fc.string({ maxLength: 12 }), fc.array(fc.string({ maxLength: 4 }))),
      iss: hazardString,
    }, { requiredKeys: [] });
    const header = fc.oneof(
      fc.constant({ alg: 'HS256', typ: 'JWT' }),
      fc.record({
        alg: fc.constantFrom('none', 'None', 'NONE', 'nOnE', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', '', ' HS256', 'hs256'),
        typ: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        kid: fc.option(hazardString, { nil: undefined }),
        crit: fc.option(fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }), { nil: undefined }),
      }, { requiredKeys: ['alg'] }),
      fc.anything({ maxDepth: 1 }),
    );
    type Token = { token: string; signedWithSecret: boolean };
    const token: fc.Arbitrary<Token> = fc.oneof(
      fc.record({ h: header, c: claims }).map(({ h, c }) => ({ token: `${b64url(h)}.${b64url(c)}.`, signedWithSecret: false })),
      fc.record({ h: header, c: claims, sig: fc.string({ maxLength: 20 }) }).map(({ h, c, sig }) => ({ token: `${b64url(h)}.${b64url(c)}.${b64url(sig)}`, signedWithSecret: false })),
      fc.record({ h: header, c: claims }).map(({ h, c }) => ({ token: signHs256(h, c, DEV_JWT_SECRET), signedWithSecret: true })),
      // Authentic and well-formed but for the subject, which becomes the owner of tasks.
      {
        weight: 4,
        arbitrary: fc.record({ sub: fc.tuple(hazardString, fc.constantFrom('\u0000', '\u0000', '\ud800', '\u0001', '\u202e', 'é'), hazardString).map((parts) => parts.join('')), role: fc.constantFrom('admin', 'operator', 'submitter', 'viewer') })
          .map(({ sub, role }) => ({ token: signHs256({ alg: 'HS256', typ: 'JWT' }, { sub, role, exp: nowSec + 3600 }, DEV_JWT_SECRET), signedWithSecret: true })),
      },
      fc.record({ h: header, c: claims, secret: fc.string({ minLength: 1, maxLength: 64 }) })
        .filter(({ secret }) => secret !== DEV_JWT_SECRET).map(({ h, c, secret }) => ({ token: signHs256(h, c, secret), signedWithSecret: false })),
      fc.record({ at: fc.nat(), by: fc.constantFrom('A', '_', '-', '.', '=') }).map(({ at, by }) => {
        // A valid token with one character changed.
        const good = tokens.admin;
        const i = at % good.length;
        const changed = good.slice(0, i) + (good[i] === by ? 'B' : by) + good.slice(i + 1);
        return { token: changed, signedWithSecret: changed === good };
      }),
      fc.array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 5 }).map((parts) => ({ token: parts.join('.'), signedWithSecret: false })),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => ({ token: s.replace(/\s/g, '') || 'x', signedWithSecret: false })),
      fc.integer({ min: 1000, max: NODE_MAX_HEADER_BYTES - 2000 }).map((n) => ({ token: 'e'.repeat(n), signedWithSecret: false })),
      fc.integer({ min: NODE_MAX_HEADER_BYTES, max: 2 * NODE_MAX_HEADER_BYTES }).map((n) => ({ token: 'e'.repeat(n), signedWithSecret: false })),
    );
    const authorization = fc.oneof(
      { weight: 6, arbitrary: token.map((t) => ({ value: `Bearer ${t.token}` as HeaderValue, ...t })) },
      { weight: 1, arbitrary: token.map((t) => ({ value: `bearer ${t.token}` as HeaderValue, ...t })) },
      { weight: 1, arbitrary: token.map((t) => ({ value: `Bearer  ${t.token} trailing` as HeaderValue, token: t.token, signedWithSecret: false })) },
      { weight: 1, arbitrary: token.map((t) => ({ value: t.token, token: t.token, signedWithSecret: false })) },
      { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic YTpi', 'Digest x', 'Bearer \u00ff\u00fe').map((v) => ({ value: v, token: '', signedWithSecret: false })) },
      {
        weight: 1,
        arbitrary: fc.array(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0d && b !== 0x0a), { maxLength: 80 })
          .map((bytes) => ({ value: Buffer.concat([Buffer.from('Bearer '), Buffer.from(bytes)]), token: '', signedWithSecret: false })),
      },
    );
    await fc.assert(fc.asyncProperty(
      fc.record({
        auth: fc.option(authorization, { freq: 12, nil: undefined }),
        target: fc.constantFrom<{ method: string; path: string; body?: string }>(
          { method: 'GET', path: '/tasks' }, { method: 'GET', path: '/nodes' }, { method: 'GET', path: '/cluster' },
          { method: 'POST', path: '/tasks', body: '{"type":"echo","payload":"from a fuzzed token"}' },
          { method: 'GET', path: '/tasks/00000000-0000-4000-8000-000000000000' },
        ),
        twice: fc.boolean(),
      }),
      async (c) => {
        const headers: [string, HeaderValue][] = [['Content-Type', 'application/json']];
        if (c.auth) headers.push(['Authorization', c.auth.value]);
        if (c.auth && c.twice) headers.push(['Authorization', `Bearer ${tokens.viewer}`]);
        const req: RawRequest = { method: c.target.method, path: c.target.path, headers, ...(c.target.body !== undefined ? { body: Buffer.from(c.target.body) } : {}) };
        const res = await send(req);
        checkAnswer(req, res);
        if (fromApplication(res) && !c.auth?.signedWithSecret) {
          assert.equal(res.status, 401, `a request without a token signed with the secret is refused with 401: ${describeExchange(req, res)}`);
          assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/, 'a 401 names the Bearer scheme');
        }
      },
    ), fuzzParams(200, 25_000));
  });

  it('answers every HTTP method on every route with a 2xx or a 4xx', async () => {
    const methods = METHODS.filter((m) => m !== 'CONNECT');
    await fc.assert(fc.asyncProperty(
      fc.record({
        method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Z][A-Z-]{0,11}$/) }),
        path: fc.constantFrom(
          '/tasks', '/tasks/batch', `/tasks/${knownIds[0] ?? 'x'}`, `/tasks/${knownIds[1] ?? 'x'}/cancel`, '/tasks/00000000-0000-4000-8000-000000000000',
          '/nodes', '/nodes/ki1/release', '/cluster', '/healthz', '/readyz', '/', '/metrics', '/tasks?limit=1',
        ),
        body: fc.option(fc.constantFrom('{"type":"echo","payload":"m"}', '{"priority":3}', '{}', 'x'), { nil: undefined }),
        role: fc.constantFrom('admin' as const, 'viewer' as const),
      }),
      async (c) => {
        const req: RawRequest = {
          method: c.method, path: c.path, headers: [auth(tokens[c.role]), ['Content-Type', 'application/json']],
          ...(c.body !== undefined ? { body: Buffer.from(c.body) } : {}),
        };
        const res = await send(req);
        checkAnswer(req, res);
      },
    ), fuzzParams(200, 20_000));
  });

  it('keeps concurrent valid submissions unaffected by one whose payload the store cannot hold', async () => {
    // A NUL character is valid JSON but PostgreSQL's JSONB refuses it: the bad submission must
    // not take the valid ones written in the same group commit down with it.
    const valid = Array.from({ length: 30 }, (_, i) => ({ body: JSON.stringify({ type: 'echo', payload: { i } }), bad: false }));
    const all = [...valid.slice(0, 15), { body: JSON.stringify({ type: 'echo', payload: 'nul \u0000 inside' }), bad: true }, ...valid.slice(15)];
    const answers = await mapLimit(all, all.length, async (s) => {
      const req: RawRequest = { method: 'POST', path: '/tasks', headers: [auth(tokens.submitter), ['Content-Type', 'application/json']], body: Buffer.from(s.body) };
      return { ...s, req, res: await send(req) };
    });
    const validStatuses = answers.filter((a) => !a.bad).map((a) => a.res.status);
    assert.deepEqual(validStatuses, validStatuses.map(() => 201), `every valid submission is created (statuses in submission order, the bad one 16th): ${answers.map((a) => a.res.status).join(',')}`);
    const bad = answers.find((a) => a.bad)!;
    checkAnswer(bad.req, bad.res);
  });

  it('is still alive, healthy and running tasks after the fuzzing', async () => {
    assert.ok(principal.alive, 'the principal process is still running');
    const health = await send({ method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200);
    const metricsHealth = await fetch(`http://127.0.0.1:${principal.metricsPort}/healthz`);
    assert.equal(metricsHealth.status, 200);

    const api = new Api(cluster.url(), tokens.submitter);
    const created = await api.post('/tasks', { type: 'echo', payload: { after: 'fuzzing' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await waitFor(() => api.get(`/tasks/${created.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'a normal task succeeds after the fuzzing' });
    assert.deepEqual(done.body.result, { after: 'fuzzing' });
    for (const n of cluster.nodes) assert.ok(n.alive, `${n.id} is still running`);

    const metrics = await principal.metrics();
    assert.ok(sumMetric(metrics, 'anki_http_requests_total') > 0, 'requests were counted');
    const serverErrors = metrics.split('\n').filter((l) => l.startsWith('anki_http_requests_total{') && /status="5\d\d"/.test(l) && !l.endsWith(' 0'));
    assert.deepEqual(serverErrors, [], 'no request was answered with a 5xx');
  });
});
