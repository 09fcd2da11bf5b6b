import { ConfigError, loadAdapterConfig, loadApiConfig, loadConfig, loadIngestConfig, loadMigrateConfig } from './config';

/** The problems a loader reports, or [] when it accepts the environment. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

const variables = (problems: string[]) => problems.map((p) => p.split(':')[0]).sort();

/** Bad values for every section but common, mysql and amqp. */
const BAD_OTHER_SECTIONS = {
  API_PORT: 'abc',
  FIREBASE_PROJECT_ID: 'Not A Project',
  API_STREAM_POLL_MS: 'often',
  AUDIT_SHIPPER_BATCH_SIZE: 'lots',
  AUDIT_SHIPPER_ID: 'bad id!',
};

describe('loadIngestConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadIngestConfig({});
    expect(c.mysqlUrl).toBe('mysql://root@127.0.0.1:3306/mymonit');
    expect(c.amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(c.ingest).toEqual({ batchSize: 5000, flushMs: 200, prefetch: 10_000, httpPort: 9464 });
    expect(c.ingest.prefetch).toBeGreaterThanOrEqual(c.ingest.batchSize);
    expect(Object.isFrozen(c) && Object.isFrozen(c.ingest) && Object.isFrozen(c.elasticsearch.logs)).toBe(true);
  });

  it('names every bad variable without echoing its value', () => {
    let error: unknown;
    try {
      loadIngestConfig({ AMQP_URL: 'http://user:s3cret@host', INGEST_BATCH_SIZE: 'many', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(variables((error as ConfigError).problems)).toEqual(['AMQP_URL', 'INGEST_BATCH_SIZE', 'LOG_LEVEL']);
    expect((error as ConfigError).message).not.toMatch(/s3cret/);
  });

  it('ignores the API and audit shipper variables, even bad ones, and exposes only its sections', () => {
    const c = loadIngestConfig({ ...BAD_OTHER_SECTIONS, INGEST_BATCH_SIZE: '100' });
    expect(c.ingest.batchSize).toBe(100);
    expect(Object.keys(c).sort()).toEqual(['amqpUrl', 'elasticsearch', 'ingest', 'logLevel', 'mysqlUrl', 'nodeEnv']);
    // @ts-expect-error the ingest configuration has no api section
    expect(c.api).toBeUndefined();
    // Its own sections are still checked, alongside the ignored ones.
    expect(variables(problemsOf(() => loadIngestConfig({ ...BAD_OTHER_SECTIONS, INGEST_FLUSH_MS: '0', ELASTICSEARCH_LOGS: 'maybe' })))).toEqual([
      'ELASTICSEARCH_LOGS',
      'INGEST_FLUSH_MS',
    ]);
  });
});

describe('loadApiConfig', () => {
  it('rejects a bad API_PORT and names it, not its value', () => {
    const problems = problemsOf(() => loadApiConfig({ API_PORT: 'abc-port-value' }));
    expect(variables(problems)).toEqual(['API_PORT']);
    expect(problems.join('\n')).not.toContain('abc-port-value');
    expect(variables(problemsOf(() => loadApiConfig({ API_PORT: '65536' })))).toEqual(['API_PORT']);
  });

  it('does not read the broker, ingest or audit shipper variables', () => {
    const c = loadApiConfig({ AMQP_URL: 'http://nope', INGEST_BATCH_SIZE: 'many', AUDIT_SHIPPER_BATCH_SIZE: 'lots', ELASTICSEARCH_URL: 'ftp://x' });
    expect(Object.keys(c).sort()).toEqual(['api', 'logLevel', 'mysqlUrl', 'nodeEnv']);
  });

  it('takes a redis:// or rediss:// URL for shared rate-limit counters, none by default, and names a bad one without its secret', () => {
    expect(loadApiConfig({}).api.rateLimit.redisUrl).toBeUndefined();
    expect(loadApiConfig({ API_RATE_LIMIT_REDIS_URL: 'rediss://api:pw@redis:6380/2' }).api.rateLimit.redisUrl).toBe('rediss://api:pw@redis:6380/2');
    const problems = problemsOf(() => loadApiConfig({ API_RATE_LIMIT_REDIS_URL: 'http://api:hunter2@redis:6379' }));
    expect(variables(problems)).toEqual(['API_RATE_LIMIT_REDIS_URL']);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reads the live stream settings, with defaults', () => {
    expect(loadApiConfig({}).api.liveStreams).toEqual({ pollMs: 1_000, heartbeatMs: 15_000, accessRecheckMs: 15_000, maxPerUser: 5, maxTotal: 500 });
    const c = loadApiConfig({
      API_STREAM_POLL_MS: '250',
      API_STREAM_HEARTBEAT_MS: '30000',
      API_STREAM_ACCESS_RECHECK_MS: '60000',
      API_STREAM_MAX_PER_USER: '2',
      API_STREAM_MAX_TOTAL: '50',
    });
    expect(c.api.liveStreams).toEqual({ pollMs: 250, heartbeatMs: 30_000, accessRecheckMs: 60_000, maxPerUser: 2, maxTotal: 50 });
    expect(Object.isFrozen(c.api.liveStreams)).toBe(true);
  });

  it('bounds the live stream settings', () => {
    const outOfBounds: Array<[string, string]> = [
      ['API_STREAM_POLL_MS', '99'],
      ['API_STREAM_POLL_MS', '60001'],
      ['API_STREAM_POLL_MS', '1.5'],
      ['API_STREAM_HEARTBEAT_MS', '999'],
      ['API_STREAM_HEARTBEAT_MS', '300001'],
      ['API_STREAM_ACCESS_RECHECK_MS', '999'],
      ['API_STREAM_ACCESS_RECHECK_MS', '600001'],
      ['API_STREAM_MAX_PER_USER', '0'],
      ['API_STREAM_MAX_PER_USER', '1001'],
      ['API_STREAM_MAX_PER_USER', 'five'],
      ['API_STREAM_MAX_TOTAL', '0'],
      ['API_STREAM_MAX_TOTAL', '100001'],
    ];
    for (const [name, value] of outOfBounds) {
      expect([name, variables(problemsOf(() => loadApiConfig({ [name]: value })))]).toEqual([name, [name]]);
    }
    for (const [name, value] of [['API_STREAM_POLL_MS', '100'], ['API_STREAM_POLL_MS', '15000'], ['API_STREAM_MAX_PER_USER', '500'], ['API_STREAM_MAX_TOTAL', '100000']]) {
      expect(problemsOf(() => loadApiConfig({ [name]: value }))).toEqual([]);
    }
    expect(problemsOf(() => loadApiConfig({ API_STREAM_POLL_MS: '20000' }))).toEqual([
      'API_STREAM_HEARTBEAT_MS: must not be shorter than API_STREAM_POLL_MS',
    ]);
    expect(problemsOf(() => loadApiConfig({ API_STREAM_MAX_PER_USER: '20', API_STREAM_MAX_TOTAL: '10' }))).toEqual([
      'API_STREAM_MAX_PER_USER: must not exceed API_STREAM_MAX_TOTAL',
    ]);
  });
});

describe('loadAdapterConfig', () => {
  it('needs only AMQP_URL and LOG_LEVEL', () => {
    const c = loadAdapterConfig({
      AMQP_URL: 'amqps://adapter:pw@broker:5671/mymonit',
      LOG_LEVEL: 'warn',
      MYSQL_URL: 'not a url',
      INGEST_BATCH_SIZE: 'many',
      ELASTICSEARCH_URL: 'ftp://x',
      ...BAD_OTHER_SECTIONS,
    });
    expect(c).toEqual({ nodeEnv: 'development', logLevel: 'warn', amqpUrl: 'amqps://adapter:pw@broker:5671/mymonit' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(variables(problemsOf(() => loadAdapterConfig({ AMQP_URL: 'mysql://x', LOG_LEVEL: 'loud', API_PORT: 'abc' })))).toEqual(['AMQP_URL', 'LOG_LEVEL']);
  });

  it('takes --amqp-url in place of AMQP_URL, checked the same way', () => {
    expect(loadAdapterConfig({ AMQP_URL: 'mysql://x', LOG_LEVEL: 'debug' }, 'amqp://other:5672').amqpUrl).toBe('amqp://other:5672');
    expect(loadAdapterConfig({ LOG_LEVEL: 'debug' }, 'amqp://other:5672').logLevel).toBe('debug');
    expect(variables(problemsOf(() => loadAdapterConfig({}, 'http://x')))).toEqual(['AMQP_URL']);
  });
});

describe('loadMigrateConfig and loadConfig', () => {
  it('loadMigrateConfig reads MYSQL_URL and the common variables only', () => {
    const c = loadMigrateConfig({ MYSQL_URL: 'mysql://migrate@db:3306/mymonit', AMQP_URL: 'http://nope', ...BAD_OTHER_SECTIONS });
    expect(c).toEqual({ nodeEnv: 'development', logLevel: 'info', mysqlUrl: 'mysql://migrate@db:3306/mymonit' });
    expect(variables(problemsOf(() => loadMigrateConfig({ MYSQL_URL: 'amqp://x', NODE_ENV: 'staging' })))).toEqual(['MYSQL_URL', 'NODE_ENV']);
  });

  it('loadConfig builds exactly the sections asked for', () => {
    const c = loadConfig(['mysql', 'ingest'], { INGEST_HTTP_PORT: '0', LOG_LEVEL: 'loud' });
    expect(Object.keys(c).sort()).toEqual(['ingest', 'mysqlUrl']);
    expect(c.ingest.httpPort).toBe(0);
    expect(variables(problemsOf(() => loadConfig(['common', 'auditShipper'], { LOG_LEVEL: 'loud', AUDIT_SHIPPER_BATCH_SIZE: '0', API_PORT: 'abc' })))).toEqual([
      'AUDIT_SHIPPER_BATCH_SIZE',
      'LOG_LEVEL',
    ]);
  });
});
