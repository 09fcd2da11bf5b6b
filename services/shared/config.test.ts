import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.mysqlUrl).toBe('mysql://root@127.0.0.1:3306/mymonit');
    expect(c.amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(c.ingest.prefetch).toBeGreaterThanOrEqual(c.ingest.batchSize);
    expect(Object.isFrozen(c) && Object.isFrozen(c.ingest)).toBe(true);
  });

  it('names every bad variable without echoing its value', () => {
    let error: unknown;
    try {
      loadConfig({ AMQP_URL: 'http://user:s3cret@host', INGEST_BATCH_SIZE: 'many', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/AMQP_URL/);
    expect(message).toMatch(/INGEST_BATCH_SIZE/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).not.toMatch(/s3cret/);
  });
});
