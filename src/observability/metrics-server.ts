import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthState } from '../lifecycle';

/** /metrics, /healthz and /readyz on METRICS_PORT, served by every node. */
export async function startMetricsServer(registry: Registry, health: HealthState, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => { res.writeHead(200, { 'Content-Type': registry.contentType }); res.end(text); },
        () => { res.writeHead(500); res.end(); },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const r = health.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(r.ready ? { status: 'ready' } : { status: 'not ready', failing: r.failing }));
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"status":404}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}
