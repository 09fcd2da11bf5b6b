import { ConfigError, loadAuditShipperConfig } from '../shared/config';

describe('audit shipper configuration', () => {
  it('has defaults for everything but ELASTICSEARCH_URL', () => {
    const config = loadAuditShipperConfig({ ELASTICSEARCH_URL: 'https://shipper:pw@es.example.org:9200' });
    expect(config.elasticsearch).toEqual({
      url: 'https://shipper:pw@es.example.org:9200',
      caFile: undefined,
      requestTimeoutMs: 15_000,
      logs: { enabled: true, bufferLimit: 2_000 },
    });
    expect(config.auditShipper).toEqual({ httpPort: 9465, id: undefined, batchSize: 500, pollMs: 1_000, leaseSeconds: 120, maxBackoffMs: 30_000 });
    expect(Object.isFrozen(config.auditShipper)).toBe(true);
  });

  it('refuses to start without Elasticsearch, or with a lease shorter than a send can take', () => {
    expect(() => loadAuditShipperConfig({})).toThrow(/ELASTICSEARCH_URL: is required by the audit shipper/);
    expect(() =>
      loadAuditShipperConfig({ ELASTICSEARCH_URL: 'http://es:9200', AUDIT_SHIPPER_LEASE_SECONDS: '20', ELASTICSEARCH_REQUEST_TIMEOUT_MS: '15000' }),
    ).toThrow(/AUDIT_SHIPPER_LEASE_SECONDS: must be longer than twice ELASTICSEARCH_REQUEST_TIMEOUT_MS/);
  });

  it('names every bad variable without echoing its value', () => {
    try {
      loadAuditShipperConfig({ ELASTICSEARCH_URL: 'ftp://secret-host', AUDIT_SHIPPER_ID: 'bad id!', ELASTICSEARCH_LOGS: 'maybe' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const { problems } = err as ConfigError;
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['AUDIT_SHIPPER_ID', 'ELASTICSEARCH_LOGS', 'ELASTICSEARCH_URL']);
      expect((err as Error).message).not.toContain('secret-host');
    }
  });
});
