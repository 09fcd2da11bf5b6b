import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { startApi } from './support/api-harness';
import type { ApiHarness } from './support/api-harness';
import { ROOT } from './support/processes';
import { freePort, waitFor } from './support/services';

/**
 * nginx/ as deployed, run by the host's nginx under a scratch prefix (nginx/render-test-config.sh)
 * with a certificate from scripts/gen-certs.sh, in front of an upstream. The upstream is a
 * stand-in that records what reaches it; startUpstream() is the one place to change to put the
 * real API there instead (its /healthz answers the proxied requests the same way).
 */

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

interface Upstream {
  readonly hostPort: string;
  /** What reached the upstream, in order. */
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly tlsVersion?: string;
}

interface RequestOpts {
  headers?: Record<string, string>;
  body?: Buffer;
  plain?: boolean;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** The client's own loopback address, so the proxy's view of "the client" can be told from its own. */
  localAddress?: string;
}

/** Debian's nginx running nginx/ as deployed (TLS from scripts/gen-certs.sh) in front of `upstream`. */
interface RunningNginx {
  readonly dir: string;
  readonly prefix: string;
  request(method: string, urlPath: string, opts?: RequestOpts): Promise<Reply>;
  stop(): Promise<void>;
}

async function launchNginx(upstreamHostPort: string): Promise<RunningNginx> {
  execFileSync('bash', [path.join(ROOT, 'scripts/validate-deploy.sh'), 'ensure', 'nginx', 'openssl'], { stdio: 'pipe' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mymonit-nginx-'));
  // nginx workers run as nobody: they must be able to reach the prefix below.
  chmodSync(dir, 0o755);
  execFileSync('bash', [path.join(ROOT, 'scripts/gen-certs.sh'), path.join(dir, 'certs')], { stdio: 'pipe' });
  const ca = readFileSync(path.join(dir, 'certs', 'ca.pem'));
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const prefix = path.join(dir, 'nginx');
  execFileSync('bash', [
    path.join(ROOT, 'nginx/render-test-config.sh'),
    prefix,
    upstreamHostPort,
    String(httpsPort),
    String(httpPort),
    path.join(dir, 'certs', 'nginx'),
  ]);
  writeFileSync(path.join(prefix, 'html', 'index.html'), '<!doctype html><title>MyMONIT</title>');
  mkdirSync(path.join(prefix, 'html', 'assets'));
  writeFileSync(path.join(prefix, 'html', 'assets', 'app-0123abcd.js'), 'export {};');
  let output = '';
  const nginx: ChildProcess = spawn(
    'nginx',
    ['-p', `${prefix}/`, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'logs', 'error.log'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  nginx.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  nginx.stderr?.on('data', (b: Buffer) => (output += b.toString()));

  const request = (method: string, urlPath: string, opts: RequestOpts = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const common = {
        host: '127.0.0.1',
        method,
        path: urlPath,
        headers: { host: 'localhost', ...opts.headers },
        agent: false as const,
        localAddress: opts.localAddress,
      };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            tlsVersion: opts.plain ? undefined : ((res.socket as TLSSocket | null)?.getProtocol?.() ?? undefined),
          }),
        );
      };
      const req = opts.plain
        ? http.request({ ...common, port: httpPort }, onResponse)
        : https.request({ ...common, port: httpsPort, ca, servername: 'localhost', maxVersion: opts.maxVersion }, onResponse);
      req.on('error', reject);
      req.end(opts.body);
    });

  const stop = async (): Promise<void> => {
    if (nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor(async () => (await request('GET', '/')).status === 200, 'nginx serving', 20_000).catch(async (err: unknown) => {
    await stop();
    throw new Error(`${String(err)}\nnginx said:\n${output}`, { cause: err });
  });
  return { dir, prefix, request, stop };
}

describe('nginx in front of the API', () => {
  let upstream: Upstream;
  let front: RunningNginx;
  const request = (method: string, urlPath: string, opts?: RequestOpts): Promise<Reply> => front.request(method, urlPath, opts);

  beforeAll(async () => {
    upstream = await startUpstream();
    front = await launchNginx(upstream.hostPort);
  });

  afterAll(async () => {
    await front?.stop();
    await upstream?.close();
  });

  it('serves HTTPS (TLS 1.2 or 1.3 only) with HSTS and the security headers', async () => {
    const page = await request('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>MyMONIT</title>');
    expect(['TLSv1.2', 'TLSv1.3']).toContain(page.tlsVersion);
    expect((await request('GET', '/', { maxVersion: 'TLSv1.2' })).tlsVersion).toBe('TLSv1.2');
    const asset = await request('GET', '/assets/app-0123abcd.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    for (const reply of [page, asset, await request('GET', '/healthz')]) {
      expect(reply.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(reply.headers.server).toBe('nginx');
    }
  });

  it('redirects plain HTTP to HTTPS, path and query kept', async () => {
    const reply = await request('GET', '/measures/3?limit=10', { plain: true });
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe('https://localhost/measures/3?limit=10');
  });

  it('proxies to the API with the client address, the scheme and a request id', async () => {
    const before = upstream.seen.length;
    const reply = await request('GET', '/healthz', { headers: { 'x-forwarded-for': '6.6.6.6', 'x-request-id': '<bad id>' } });
    expect(reply.status).toBe(200);
    const seen = upstream.seen.slice(before);
    expect(seen).toHaveLength(1);
    // A spoofed X-Forwarded-For is replaced by the real peer, not appended to.
    expect(seen[0].headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen[0].headers['x-forwarded-proto']).toBe('https');
    expect(seen[0].headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(reply.headers['x-request-id']).toBe(seen[0].headers['x-request-id']);

    await request('GET', '/healthz', { headers: { 'x-request-id': 'client-req-0001' } });
    expect(upstream.seen.at(-1)?.headers['x-request-id']).toBe('client-req-0001');
  });

  it('refuses a body over the limit with 413 before it reaches the API', async () => {
    const before = upstream.seen.length;
    const reply = await request('POST', '/users/', { body: Buffer.alloc(2 * 1024 * 1024, 'x'), headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(413);
    expect(upstream.seen.length).toBe(before);
  });

  it('limits the request rate per client with 429', async () => {
    const replies = await Promise.all(Array.from({ length: 150 }, () => request('GET', '/healthz')));
    const statuses = new Set(replies.map((r) => r.status));
    expect([...statuses].sort()).toEqual([200, 429]);
  });

  it('writes the access log as one ECS JSON document per line', async () => {
    const reply = await request('GET', '/healthz?probe=log', { headers: { 'x-request-id': 'log-check-0001' } });
    expect(reply.status).toBeLessThan(500);
    const logFile = path.join(front.prefix, 'logs', 'access.json');
    const entry = await waitFor(() => {
      const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '');
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['http.request.id'] === 'log-check-0001');
    }, 'the access log line');
    expect(entry).toMatchObject({
      'event.dataset': 'nginx.access',
      'source.ip': '127.0.0.1',
      'http.request.method': 'GET',
      'url.original': '/healthz?probe=log',
      'http.response.status_code': reply.status,
    });
    expect(typeof entry['@timestamp']).toBe('string');
  });
});

describe('nginx in front of the real API', () => {
  let api: ApiHarness;
  let front: RunningNginx;

  beforeAll(async () => {
    // The API trusts the proxy on loopback only, as a deployment behind nginx would configure it.
    api = await startApi('nginx_api', { API_TRUST_PROXY: 'loopback' });
    front = await launchNginx(new URL(api.baseUrl).host);
  });

  afterAll(async () => {
    await front?.stop();
    await api?.close();
  });

  it('serves the API over HTTPS, and the API records the client address nginx saw', async () => {
    const admin = await api.user('ADMIN');
    // The client connects from 127.0.0.2; nginx itself reaches the API from 127.0.0.1.
    const listed = await front.request('GET', '/experiments/', {
      headers: { authorization: `Bearer ${admin.idToken}` },
      localAddress: '127.0.0.2',
    });
    expect(listed.status).toBe(200);
    expect(listed.headers['strict-transport-security']).toBeDefined();

    const denied = await front.request('GET', '/users/', {
      headers: { authorization: 'Bearer not-a-token', 'x-forwarded-for': '6.6.6.6' },
      localAddress: '127.0.0.2',
    });
    expect(denied.status).toBe(401);
    expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);
    const [rows] = await api.db.pool.query("SELECT ip FROM audit_events WHERE outcome <> 'success' ORDER BY id DESC LIMIT 1");
    expect((rows as Array<{ ip: string }>)[0]?.ip).toBe('127.0.0.2');
  });
});
