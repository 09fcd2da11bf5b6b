import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { container } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import { createPool } from '../../db/src/pool';
import type { Pool } from '../../db/src/pool';
import type { ApiProcessConfig } from '../shared/config';
import { ConfigError, loadApiConfig } from '../shared/config';
import { once, stopOnSignals } from '../shared/lifecycle';
import { createLogger, flushLogger } from '../shared/logger';
import type { Logger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { Metrics } from '../shared/metrics';
import { TOKENS } from '../shared/tokens';
import { buildApp } from './app';
import type express from 'express';
import { Authenticator } from './auth/authenticator';
import { CachingTokenVerifier } from './auth/caching-token-verifier';
import { FirebaseTokenVerifier } from './auth/firebase-token-verifier';
import { TOKEN_VERIFIER } from './auth/token-verifier';
import type { TokenVerifier } from './auth/token-verifier';
import { AccessService } from './domain/access.service';
import { AdminListingService } from './domain/admin-listings.service';
import { AssociationService } from './domain/associations.service';
import { AuditTrail } from './domain/audit-trail';
import { CLOCK, systemClock } from './domain/clock';
import type { Clock } from './domain/clock';
import { ExperimentService } from './domain/experiments.service';
import { MeasureTypeService } from './domain/measure-types.service';
import { DEFAULT_LIVE_STREAM_SETTINGS, LIVE_STREAM_SETTINGS, LiveMeasureService } from './domain/live-measures.service';
import { MeasureTypeIds } from './domain/measure-type-ids';
import { MeasureService } from './domain/measures.service';
import { DATABASE, PAGE_LIMITS } from './domain/ports';
import { UserService } from './domain/users.service';
import { registerLiveStreamGauge } from './http/http-metrics';
import { MysqlDatabase } from './infrastructure/mysql-database';
import { createRedisRateLimitStores } from './infrastructure/redis-rate-limit-stores';
import type { RateLimitStores } from './infrastructure/redis-rate-limit-stores';
import { adminRoutes } from './routes/admin.routes';
import { associationsRoutes } from './routes/associations.routes';
import { experimentsRoutes } from './routes/experiments.routes';
import { measureAggregatesRoutes } from './routes/measure-aggregates.routes';
import { measureStreamRoutes } from './routes/measure-stream.routes';
import { measureTypesRoutes } from './routes/measure-types.routes';
import { measuresRoutes } from './routes/measures.routes';
import { openApiRoutes } from './routes/openapi.routes';
import { opsRoutes } from './routes/ops.routes';
import { usersRoutes } from './routes/users.routes';

export interface ApiInfrastructure {
  readonly config: ApiProcessConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly pool: Pool;
  readonly tokenVerifier: TokenVerifier;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Rate-limit counters shared by every API process; default: each process's own memory. */
  readonly rateLimitStores?: RateLimitStores;
}

/**
 * Registers the API's parts in a container and builds the app. Exported so integration tests
 * compose the very same graph (in a child container, by default) with their own database and
 * emulator.
 */
export function composeApi(infra: ApiInfrastructure, c: DependencyContainer = container.createChildContainer()): express.Express {
  c.register(TOKENS.Config, { useValue: infra.config });
  c.register(TOKENS.Logger, { useValue: infra.logger });
  c.register(TOKENS.Metrics, { useValue: infra.metrics });
  c.register(TOKENS.Pool, { useValue: infra.pool });
  c.register(TOKEN_VERIFIER, { useValue: infra.tokenVerifier });
  c.register(PAGE_LIMITS, { useValue: infra.config.api.pageLimit });
  c.register(CLOCK, { useValue: infra.clock ?? systemClock });
  // The operator tunes the streams through config (API_STREAM_*); the rest keeps the domain's defaults.
  c.register(LIVE_STREAM_SETTINGS, { useValue: Object.freeze({ ...DEFAULT_LIVE_STREAM_SETTINGS, ...infra.config.api.liveStreams }) });
  c.registerSingleton(DATABASE, MysqlDatabase);
  for (const cls of [
    Authenticator,
    AccessService,
    AuditTrail,
    UserService,
    ExperimentService,
    AssociationService,
    MeasureTypeService,
    MeasureTypeIds,
    MeasureService,
    LiveMeasureService,
    AdminListingService,
  ]) {
    c.registerSingleton(cls as new (...args: never[]) => unknown);
  }
  const limits = c.resolve(PAGE_LIMITS);
  const live = c.resolve(LiveMeasureService);
  registerLiveStreamGauge(infra.metrics, () => live.openStreams);
  const db = c.resolve(DATABASE);
  const routes = [
    ...opsRoutes(db, infra.metrics),
    ...usersRoutes(c.resolve(UserService)),
    ...experimentsRoutes(c.resolve(ExperimentService)),
    ...associationsRoutes(c.resolve(AssociationService)),
    ...measureTypesRoutes(c.resolve(MeasureTypeService)),
    ...measuresRoutes(c.resolve(MeasureService), limits),
    ...measureAggregatesRoutes(c.resolve(MeasureService)),
    ...measureStreamRoutes(live, c.resolve(Authenticator)),
    ...adminRoutes(c.resolve(AdminListingService), limits),
  ];
  return buildApp({
    config: infra.config.api,
    logger: infra.logger,
    metrics: infra.metrics,
    authenticator: c.resolve(Authenticator),
    access: c.resolve(AccessService),
    auditTrail: c.resolve(AuditTrail),
    routes: [...routes, ...openApiRoutes(routes)],
    rateLimitStores: infra.rateLimitStores,
  });
}

const TOKEN_CACHE_TTL_MS = 30_000;

/** Composition root of the API process. */
async function main(): Promise<void> {
  const config = loadApiConfig();
  const logger = createLogger({ service: 'mymonit-api', level: config.logLevel });
  const metrics = createMetrics('api');
  const pool = createPool(config.mysqlUrl);
  // firebase-admin reads the emulator address from the environment itself: make it say exactly
  // what the validated config says (which refuses an emulator in production).
  if (config.api.firebaseAuthEmulatorHost === undefined) delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
  else process.env.FIREBASE_AUTH_EMULATOR_HOST = config.api.firebaseAuthEmulatorHost;
  // Each verification asks Firebase whether the token was revoked: reuse a positive answer for
  // TOKEN_CACHE_TTL_MS, which is therefore how late a revocation may be seen.
  const tokenVerifier = new CachingTokenVerifier(new FirebaseTokenVerifier({ projectId: config.api.firebaseProjectId }), systemClock, {
    ttlMs: TOKEN_CACHE_TTL_MS,
    maxEntries: 10_000,
  });
  const redisUrl = config.api.rateLimit.redisUrl;
  const rateLimitStores = redisUrl === undefined ? undefined : createRedisRateLimitStores(redisUrl, logger);
  const app = composeApi({ config, logger, metrics, pool, tokenVerifier, rateLimitStores }, container);

  const server = http.createServer(app);
  // Behind a proxy with keep-alive, the server must not close idle sockets before the proxy does.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;

  const stop = once(async () => {
    // Live streams would hold server.close() open until the forced close: end them first (each
    // tells its client to reconnect). Then stop accepting, let in-flight requests finish, and drop
    // idle keep-alive sockets.
    container.resolve(LiveMeasureService).close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), 10_000);
    forced.unref();
    await closed;
    clearTimeout(forced);
    await tokenVerifier.close().catch(() => undefined);
    await rateLimitStores?.close();
    await pool.end().catch(() => undefined);
    logger.info('api stopped');
    await flushLogger(logger);
  });
  stopOnSignals(stop, logger);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.api.port, () => resolve());
  });
  logger.info('api listening', {
    port: (server.address() as AddressInfo).port,
    firebaseProjectId: config.api.firebaseProjectId,
    authEmulator: config.api.firebaseAuthEmulatorHost ?? null,
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const message = err instanceof ConfigError ? err.message : `api failed to start: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
}
