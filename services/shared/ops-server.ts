import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics';

export interface Readiness {
  /** undefined when ready, otherwise why not. */
  notReadyReason(): string | undefined;
}

/**
 * The small operations port of a worker process: /healthz (process up), /readyz (able to do its
 * work), /metrics (Prometheus). Workers need nothing more than node:http for three GET routes.
 */
export class OpsServer {
  private server: http.Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly readiness: Readiness,
  ) {}

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const reason = this.readiness.notReadyReason();
      res
        .writeHead(reason ? 503 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify(reason ? { status: 'not ready', reason } : { status: 'ready' }));
    } else if (path === '/metrics') {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
