import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';

/** Security headers, CORS, rate limits and proxy trust, in their default and configured forms. */

async function auditIp(api: ApiHarness, requestId: string | null): Promise<string | undefined> {
  const [rows] = await api.db.pool.query('SELECT ip FROM audit_events WHERE request_id = ?', [requestId]);
  return (rows as Array<{ ip: string }>)[0]?.ip;
}

describe('defaults', () => {
  let api: ApiHarness;
  let admin: TestUser;
  beforeAll(async () => {
    api = await startApi('api_hardening_default');
    admin = await api.user('ADMIN');
  });
  afterAll(async () => {
    await api?.close();
  });

  test('security headers are set and the framework is not advertised', async () => {
    const res = await api.request('GET', '/healthz');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  test('CORS is off: no Access-Control-Allow-Origin for any origin', async () => {
    const res = await api.request('GET', '/experiments', {
      headers: { origin: 'https://evil.example', authorization: `Bearer ${admin.idToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('X-Forwarded-For is ignored unless a proxy is trusted', async () => {
    const res = await api.request('GET', '/users', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(401);
    expect(await auditIp(api, res.headers.get('x-request-id'))).toBe('127.0.0.1');
  });

  test('a request id is made up, or taken from the client when well-formed', async () => {
    expect((await api.request('GET', '/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    const forged = `x${'y'.repeat(100)} <script>`;
    expect((await api.request('GET', '/healthz', { headers: { 'x-request-id': forged } })).headers.get('x-request-id')).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });
});

describe('configured: CORS origins, a trusted proxy, tight rate limits', () => {
  let api: ApiHarness;
  let admin: TestUser;
  let scientist: TestUser;
  beforeAll(async () => {
    api = await startApi('api_hardening_configured', {
      API_CORS_ORIGINS: 'https://monit.example.org',
      API_TRUST_PROXY: '1',
      API_RATE_LIMIT_PER_IP: '5',
      API_RATE_LIMIT_PER_USER: '3',
    });
    admin = await api.user('ADMIN');
    scientist = await api.user('SCIENTIST');
  });
  afterAll(async () => {
    await api?.close();
  });

  test('CORS answers allowed origins only, and exposes Link and the request id', async () => {
    const preflight = await api.request('OPTIONS', '/experiments', {
      headers: {
        origin: 'https://monit.example.org',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
        'x-forwarded-for': '198.51.100.1',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://monit.example.org');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const res = await api.request('GET', '/healthz', { headers: { origin: 'https://monit.example.org', 'x-forwarded-for': '198.51.100.1' } });
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Link/);
    const other = await api.request('GET', '/healthz', { headers: { origin: 'https://evil.example', 'x-forwarded-for': '198.51.100.1' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('the client address comes from the trusted proxy', async () => {
    const res = await api.request('GET', '/users', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(await auditIp(api, res.headers.get('x-request-id'))).toBe('203.0.113.7');
  });

  test('per-IP limit: 429 problem+json with Retry-After; other clients unaffected', async () => {
    const from = { 'x-forwarded-for': '192.0.2.50' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api.request('GET', '/users', { headers: from })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await api.request('GET', '/users', { headers: from });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.json).toMatchObject({ status: 429, title: 'Too many requests' });
    expect((await api.request('GET', '/users', { headers: { 'x-forwarded-for': '192.0.2.51' } })).status).toBe(401);
    // Probes keep answering for the platform.
    expect((await api.request('GET', '/healthz', { headers: from })).status).toBe(200);
  });

  test('per-user limit: a user over their quota gets 429 from any address; others do not', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api.request('GET', '/experiments', {
        headers: { authorization: `Bearer ${admin.idToken}`, 'x-forwarded-for': `192.0.2.${100 + i}` },
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await api.request('GET', '/experiments', {
      headers: { authorization: `Bearer ${scientist.idToken}`, 'x-forwarded-for': '192.0.2.120' },
    });
    expect(res.status).toBe(200);
  });
});
