import { strict as assert } from 'node:assert';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../../src/observability/tracing';
import { redactUrlSecrets } from '../../../src/observability/tracing-redaction';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkYXNoIn0.c2lnbmF0dXJl';

describe('span redaction', () => {
  let memory: InMemorySpanExporter;
  let tracing: Tracing;
  beforeEach(() => {
    memory = new InMemorySpanExporter();
    tracing = startTracing({ role: 'principal', nodeId: 'p1', version: '1', enabled: false, endpoint: 'http://localhost:4317', protocol: 'grpc', sampleRatio: 1, instrumentations: false, exporter: memory }, {});
  });
  afterEach(async () => { await tracing.shutdown(); });

  it('exports no token or ticket that came in a request URL, in any attribute', () => {
    const span = trace.getTracer('test').startSpan('GET', {
      kind: SpanKind.SERVER,
      attributes: { 'url.query': `token=${TOKEN}`, 'url.path': '/events', 'http.method': 'GET' },
    });
    span.setAttributes({
      'http.target': `/events?token=${TOKEN}`, 'url.full': `http://p1:3030/events?x=1&token=${TOKEN}#top`,
      'http.url': `http://p1:3030/events?ticket=${TOKEN}`, 'custom.list': [`a?access_token=${TOKEN}`],
    });
    span.end();
    const [exported] = memory.getFinishedSpans();
    assert.ok(exported);
    const text = JSON.stringify(exported.attributes);
    assert.ok(!text.includes(TOKEN), text);
    assert.equal(exported.attributes['url.query'], 'token=REDACTED');
    assert.equal(exported.attributes['http.target'], '/events?token=REDACTED');
    assert.equal(exported.attributes['url.full'], 'http://p1:3030/events?x=1&token=REDACTED#top');
    assert.equal(exported.attributes['url.path'], '/events');
  });

  it('leaves other query parameters alone', () => {
    assert.equal(redactUrlSecrets('status=queued&limit=5&tokens=3&mytoken=x'), 'status=queued&limit=5&tokens=3&mytoken=x');
    assert.equal(redactUrlSecrets('a=1&Ticket=abc&b=2'), 'a=1&Ticket=REDACTED&b=2');
  });
});
