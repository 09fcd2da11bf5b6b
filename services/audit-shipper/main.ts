import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Client, HttpConnection } from '@elastic/elasticsearch';
import { container } from 'tsyringe';
import { connect, createPool, parseMysqlUrl } from '../../db/src/pool';
import { AuditOutboxRepository, SessionLock } from '../../db/src/repositories/audit-outbox.repository';
import { ConfigError, loadAuditShipperConfig } from '../shared/config';
import { once, stopOnSignals } from '../shared/lifecycle';
import { createLogger, elasticsearchLogOptions, flushLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { OpsServer } from '../shared/ops-server';
import { TOKENS } from '../shared/tokens';
import { AUDIT_OUTBOX, AUDIT_SINK, AuditShipper, OWNER_LOCK, SHIPPER_OPTIONS } from './audit-shipper';
import { ElasticsearchBulkSender } from './elasticsearch-bulk-sender';

/** Composition root of the audit shipper: audit_events (MySQL) → Elasticsearch. */
async function main(): Promise<void> {
  const config = loadAuditShipperConfig();
  const metrics = createMetrics('audit-shipper');
  const logger = createLogger({
    service: 'mymonit-audit-shipper',
    level: config.logLevel,
    elasticsearch: elasticsearchLogOptions(config, metrics),
  });
  const es = config.elasticsearch;
  const owner = config.auditShipper.id ?? hostname().replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64);
  const pool = createPool(config.mysqlUrl, { connectionLimit: 3 });
  // Named locks are server-wide: the database name keeps shippers of different databases apart.
  const { database } = parseMysqlUrl(config.mysqlUrl);
  const lockName = `mymonit.audit-shipper.${createHash('sha256').update(`${database}/${owner}`).digest('hex').slice(0, 32)}`;
  const client = new Client({
    node: es.url,
    name: 'mymonit-audit-shipper',
    requestTimeout: es.requestTimeoutMs,
    // The shipper retries on its own schedule, with backoff; the client must not retry in between.
    maxRetries: 0,
    // node:http rather than the default undici connection: with undici (client 8.19) a connection
    // the server resets right after accepting it leaves the request pending for good, past
    // requestTimeout, and the shipper would hang instead of backing off.
    Connection: HttpConnection,
    ...(es.caFile !== undefined && { tls: { ca: readFileSync(es.caFile, 'utf8') } }),
  });

  container.register(TOKENS.Config, { useValue: config });
  container.register(TOKENS.Logger, { useValue: logger });
  container.register(TOKENS.Metrics, { useValue: metrics });
  container.register(TOKENS.Pool, { useValue: pool });
  container.register(AUDIT_OUTBOX, { useValue: new AuditOutboxRepository(pool) });
  container.register(AUDIT_SINK, { useValue: new ElasticsearchBulkSender(client) });
  container.register(OWNER_LOCK, { useValue: new SessionLock(() => connect(config.mysqlUrl), lockName) });
  container.register(SHIPPER_OPTIONS, {
    useValue: {
      owner,
      batchSize: config.auditShipper.batchSize,
      leaseSeconds: config.auditShipper.leaseSeconds,
      pollMs: config.auditShipper.pollMs,
      maxBackoffMs: config.auditShipper.maxBackoffMs,
    },
  });
  container.registerSingleton(AuditShipper);

  const shipper = container.resolve(AuditShipper);
  const ops = new OpsServer(metrics, shipper);
  const stop = once(async () => {
    await shipper.stop();
    await ops.close();
    await client.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    logger.info('audit shipper stopped');
    await flushLogger(logger);
  });
  stopOnSignals(stop, logger);

  const port = await ops.listen(config.auditShipper.httpPort);
  logger.info('audit shipper starting', {
    opsPort: port,
    owner,
    batchSize: config.auditShipper.batchSize,
    leaseSeconds: config.auditShipper.leaseSeconds,
    elasticsearch: es.url,
  });
  shipper.start();
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `audit shipper failed to start: ${err instanceof Error ? err.message : String(err)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
