import 'reflect-metadata';
import { container, Lifecycle } from 'tsyringe';
import { createPool } from '../../db/src/pool';
import { CatalogRepository } from '../../db/src/repositories/catalog.repository';
import { AmqpConsumer } from '../shared/amqp-consumer';
import { ConfigError, loadIngestConfig } from '../shared/config';
import { once, stopOnSignals } from '../shared/lifecycle';
import { createLogger, elasticsearchLogOptions, flushLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { OpsServer } from '../shared/ops-server';
import { TOKENS } from '../shared/tokens';
import { IngestService } from './ingest-service';
import { BATCHER_OPTIONS, MeasureBatcher } from './measure-batcher';
import { BATCH_SINK, MeasureWriter } from './measure-writer';

/** Composition root of the ingest process. */
async function main(): Promise<void> {
  const config = loadIngestConfig();
  const metrics = createMetrics('ingest');
  const logger = createLogger({
    service: 'mymonit-ingest',
    level: config.logLevel,
    elasticsearch: elasticsearchLogOptions(config, metrics),
  });
  const pool = createPool(config.mysqlUrl, { connectionLimit: 4 });

  container.register(TOKENS.Config, { useValue: config });
  container.register(TOKENS.Logger, { useValue: logger });
  container.register(TOKENS.Metrics, { useValue: metrics });
  container.register(TOKENS.Pool, { useValue: pool });
  container.register(CatalogRepository, { useFactory: (c) => new CatalogRepository(c.resolve(TOKENS.Pool)) });
  container.register(BATCH_SINK, { useClass: MeasureWriter }, { lifecycle: Lifecycle.Singleton });
  container.register(BATCHER_OPTIONS, {
    useValue: { batchSize: config.ingest.batchSize, flushMs: config.ingest.flushMs },
  });
  container.registerSingleton(MeasureBatcher);
  container.register(AmqpConsumer, {
    useFactory: (c) => {
      const batcher = c.resolve(MeasureBatcher);
      return new AmqpConsumer(
        { url: config.amqpUrl, prefetch: config.ingest.prefetch, connectionName: 'mymonit-ingest' },
        { onDelivery: (d) => batcher.add(d), onChannelLost: () => batcher.discard() },
        logger,
      );
    },
  });
  container.registerSingleton(IngestService);

  const service = container.resolve(IngestService);
  const ops = new OpsServer(metrics, service);
  const stop = once(async () => {
    await service.stop();
    await ops.close();
    await pool.end().catch(() => undefined);
    logger.info('ingest stopped');
    await flushLogger(logger);
  });
  stopOnSignals(stop, logger);

  const port = await ops.listen(config.ingest.httpPort);
  logger.info('ingest starting', {
    opsPort: port,
    batchSize: config.ingest.batchSize,
    flushMs: config.ingest.flushMs,
    prefetch: config.ingest.prefetch,
  });
  await service.start();
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `ingest failed to start: ${err instanceof Error ? err.message : String(err)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
