import { z } from 'zod';

/**
 * The one place that reads the environment. The variables come in sections (common, mysql, amqp,
 * elasticsearch, ingest, api, auditShipper) and each process loads only the sections it uses, so
 * a bad API variable never stops ingest, an adapter or a migration. A bad value throws a
 * ConfigError naming every offending variable of those sections, and main.ts exits on it.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);

const commonEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
});

const mysqlEnv = z.object({
  MYSQL_URL: url(['mysql:']).default('mysql://root@127.0.0.1:3306/mymonit'),
});

const amqpEnv = z.object({
  AMQP_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
});

const elasticsearchEnv = z.object({
  ELASTICSEARCH_URL: url(['http:', 'https:']).optional(),
  /** PEM file of the CA that signed Elasticsearch's certificate, when it is not a public one. */
  ELASTICSEARCH_CA_FILE: z.string().min(1).optional(),
  ELASTICSEARCH_REQUEST_TIMEOUT_MS: positiveInt.max(300_000).default(15_000),
  /** Operational logs go to Elasticsearch as well as stdout when ELASTICSEARCH_URL is set, unless off. */
  ELASTICSEARCH_LOGS: z.enum(['on', 'off']).default('on'),
  /** Log lines held in memory while Elasticsearch is away; lines beyond it are dropped and counted. */
  ELASTICSEARCH_LOG_BUFFER_LIMIT: positiveInt.max(1_000_000).default(2_000),
});

const ingestEnv = z.object({
  INGEST_BATCH_SIZE: positiveInt.max(10000).default(5000),
  INGEST_FLUSH_MS: positiveInt.max(60000).default(200),
  INGEST_PREFETCH: positiveInt.max(65535).optional(),
  INGEST_HTTP_PORT: port.default(9464),
});

const apiEnv = z.object({
  API_PORT: port.default(8080),
  FIREBASE_PROJECT_ID: z
    .string()
    .regex(/^[a-z0-9-]{4,64}$/, 'must be a Firebase project id (lower-case letters, digits and -)')
    .optional(),
  FIREBASE_AUTH_EMULATOR_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  /** Comma-separated origins allowed by CORS; unset means CORS is off (same-origin only). */
  API_CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o !== ''))
    .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), 'must be a comma-separated list of origins like https://host:port')
    .optional(),
  /**
   * Express `trust proxy`: unset (the default) trusts no proxy, so the client address is the TCP
   * peer. Set to the number of proxy hops (e.g. 1 behind nginx) or to a subnet list.
   */
  API_TRUST_PROXY: z
    .string()
    .refine((v) => /^\d{1,2}$/.test(v) || /^[0-9a-fA-F.:/,\s]+$/.test(v) || /^(loopback|linklocal|uniquelocal)(,\s*(loopback|linklocal|uniquelocal))*$/.test(v),
      'must be a hop count, a list of addresses or subnets, or loopback/linklocal/uniquelocal')
    .optional(),
  API_BODY_LIMIT_BYTES: positiveInt.max(10 * 1024 * 1024).default(64 * 1024),
  API_RATE_LIMIT_WINDOW_MS: positiveInt.max(3_600_000).default(60_000),
  API_RATE_LIMIT_PER_IP: positiveInt.max(1_000_000).default(1200),
  API_RATE_LIMIT_PER_USER: positiveInt.max(1_000_000).default(600),
  /**
   * Redis holding the rate-limit counters, shared by every API process (redis:// or rediss://,
   * credentials in the URL); unset: each process counts on its own, in memory.
   */
  API_RATE_LIMIT_REDIS_URL: url(['redis:', 'rediss:']).optional(),
  API_PAGE_LIMIT_DEFAULT: positiveInt.max(100_000).default(1000),
  API_PAGE_LIMIT_MAX: positiveInt.max(100_000).default(10_000),
  /** Directory of the built web page (web/dist) for the API to serve in dev; unset: no page. */
  API_WEB_DIR: z.string().min(1).optional(),
  // Live streams (GET /measures/{id}/stream). Every open stream polls the database once per poll
  // interval, so the poll interval and the stream caps together bound that load.
  API_STREAM_POLL_MS: positiveInt.min(100).max(60_000).default(1_000),
  /** Below the idle timeout of every proxy in front of the API (nginx here allows 1 h, many ingresses 60 s). */
  API_STREAM_HEARTBEAT_MS: positiveInt.min(1_000).max(300_000).default(15_000),
  /** How late a scientist removed from an experiment may still receive its measures. */
  API_STREAM_ACCESS_RECHECK_MS: positiveInt.min(1_000).max(600_000).default(15_000),
  API_STREAM_MAX_PER_USER: positiveInt.max(1_000).default(5),
  API_STREAM_MAX_TOTAL: positiveInt.max(100_000).default(500),
});

const auditShipperEnv = z.object({
  AUDIT_SHIPPER_HTTP_PORT: port.default(9465),
  /** Name under which a shipper replica claims rows; default: the host name (stable across container restarts). */
  AUDIT_SHIPPER_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 letters, digits, . _ : or -').optional(),
  AUDIT_SHIPPER_BATCH_SIZE: positiveInt.max(10_000).default(500),
  AUDIT_SHIPPER_POLL_MS: positiveInt.max(60_000).default(1_000),
  AUDIT_SHIPPER_LEASE_SECONDS: positiveInt.max(3_600).default(120),
  AUDIT_SHIPPER_MAX_BACKOFF_MS: positiveInt.max(600_000).default(30_000),
});

export type CommonEnv = z.infer<typeof commonEnv>;
export type ApiEnv = CommonEnv & z.infer<typeof apiEnv>;
export type AuditShipperEnv = z.infer<typeof elasticsearchEnv> & z.infer<typeof auditShipperEnv>;
/** Every variable of every section. */
export type Env = CommonEnv &
  z.infer<typeof mysqlEnv> &
  z.infer<typeof amqpEnv> &
  z.infer<typeof elasticsearchEnv> &
  z.infer<typeof ingestEnv> &
  z.infer<typeof apiEnv> &
  z.infer<typeof auditShipperEnv>;

/** What each section contributes to a process's configuration object. */
export interface ConfigSections {
  common: { readonly nodeEnv: CommonEnv['NODE_ENV']; readonly logLevel: CommonEnv['LOG_LEVEL'] };
  mysql: { readonly mysqlUrl: string };
  amqp: { readonly amqpUrl: string };
  elasticsearch: { readonly elasticsearch: ElasticsearchConfig };
  ingest: { readonly ingest: IngestConfig };
  api: { readonly api: ApiConfig };
  auditShipper: { readonly auditShipper: AuditShipperConfig };
}

export type SectionName = keyof ConfigSections;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** The configuration made of sections S, e.g. ConfigOf<'common' | 'mysql'> is { nodeEnv, logLevel, mysqlUrl }. */
export type ConfigOf<S extends SectionName> = UnionToIntersection<ConfigSections[S]>;

export type CommonConfig = ConfigOf<'common'>;
export type IngestProcessConfig = ConfigOf<'common' | 'mysql' | 'amqp' | 'elasticsearch' | 'ingest'>;
export type ApiProcessConfig = ConfigOf<'common' | 'mysql' | 'api'>;
export type AuditShipperProcessConfig = ConfigOf<'common' | 'mysql' | 'elasticsearch' | 'auditShipper'>;
/** An adapter only talks to the broker. */
export type AdapterProcessConfig = ConfigOf<'common' | 'amqp'>;
export type MigrateProcessConfig = ConfigOf<'common' | 'mysql'>;
/** Every section; no process needs them all. */
export type AppConfig = ConfigOf<SectionName>;

export interface IngestConfig {
  readonly batchSize: number;
  readonly flushMs: number;
  readonly prefetch: number;
  readonly httpPort: number;
}

export interface ApiConfig {
  readonly port: number;
  readonly firebaseProjectId: string;
  readonly firebaseAuthEmulatorHost: string | undefined;
  /** Empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Passed to express `trust proxy`; false trusts nothing. */
  readonly trustProxy: false | number | string;
  readonly bodyLimitBytes: number;
  readonly rateLimit: {
    readonly windowMs: number;
    readonly perIp: number;
    readonly perUser: number;
    /** Where the counters live when shared by every process; undefined: in each process's memory. */
    readonly redisUrl: string | undefined;
  };
  readonly pageLimit: {
    readonly default: number;
    readonly max: number;
  };
  /** Built web page to serve (dev); undefined: the API serves no page (nginx does). */
  readonly webDir: string | undefined;
  /** The operator's part of the API's LiveStreamSettings (services/api/domain/live-measures.service.ts). */
  readonly liveStreams: LiveStreamConfig;
}

export interface LiveStreamConfig {
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly accessRecheckMs: number;
  readonly maxPerUser: number;
  readonly maxTotal: number;
}

export interface ElasticsearchConfig {
  readonly url: string | undefined;
  readonly caFile: string | undefined;
  readonly requestTimeoutMs: number;
  readonly logs: {
    readonly enabled: boolean;
    readonly bufferLimit: number;
  };
}

export interface AuditShipperConfig {
  readonly httpPort: number;
  /** undefined: main.ts uses the host name. */
  readonly id: string | undefined;
  readonly batchSize: number;
  readonly pollMs: number;
  readonly leaseSeconds: number;
  readonly maxBackoffMs: number;
}

function trustProxy(v: string | undefined): false | number | string {
  if (v === undefined) return false;
  return /^\d+$/.test(v) ? Number(v) : v;
}

const SECTIONS = {
  common: {
    schema: commonEnv,
    build: (e: z.infer<typeof commonEnv>) => ({ nodeEnv: e.NODE_ENV, logLevel: e.LOG_LEVEL }),
  },
  mysql: { schema: mysqlEnv, build: (e: z.infer<typeof mysqlEnv>) => ({ mysqlUrl: e.MYSQL_URL }) },
  amqp: { schema: amqpEnv, build: (e: z.infer<typeof amqpEnv>) => ({ amqpUrl: e.AMQP_URL }) },
  elasticsearch: {
    schema: elasticsearchEnv,
    build: (e: z.infer<typeof elasticsearchEnv>) => ({
      elasticsearch: {
        url: e.ELASTICSEARCH_URL,
        caFile: e.ELASTICSEARCH_CA_FILE,
        requestTimeoutMs: e.ELASTICSEARCH_REQUEST_TIMEOUT_MS,
        logs: { enabled: e.ELASTICSEARCH_LOGS === 'on', bufferLimit: e.ELASTICSEARCH_LOG_BUFFER_LIMIT },
      },
    }),
  },
  ingest: {
    schema: ingestEnv,
    build: (e: z.infer<typeof ingestEnv>) => ({
      ingest: {
        batchSize: e.INGEST_BATCH_SIZE,
        flushMs: e.INGEST_FLUSH_MS,
        // Prefetch must cover a whole batch of single-measure messages plus the next one filling up
        // while the previous batch is written.
        prefetch: e.INGEST_PREFETCH ?? e.INGEST_BATCH_SIZE * 2,
        httpPort: e.INGEST_HTTP_PORT,
      },
    }),
  },
  api: {
    schema: apiEnv,
    build: (e: z.infer<typeof apiEnv>) => ({
      api: {
        port: e.API_PORT,
        firebaseProjectId: e.FIREBASE_PROJECT_ID ?? 'demo-mymonit',
        firebaseAuthEmulatorHost: e.FIREBASE_AUTH_EMULATOR_HOST,
        corsOrigins: e.API_CORS_ORIGINS ?? [],
        trustProxy: trustProxy(e.API_TRUST_PROXY),
        bodyLimitBytes: e.API_BODY_LIMIT_BYTES,
        rateLimit: {
          windowMs: e.API_RATE_LIMIT_WINDOW_MS,
          perIp: e.API_RATE_LIMIT_PER_IP,
          perUser: e.API_RATE_LIMIT_PER_USER,
          redisUrl: e.API_RATE_LIMIT_REDIS_URL,
        },
        pageLimit: { default: e.API_PAGE_LIMIT_DEFAULT, max: e.API_PAGE_LIMIT_MAX },
        webDir: e.API_WEB_DIR,
        liveStreams: {
          pollMs: e.API_STREAM_POLL_MS,
          heartbeatMs: e.API_STREAM_HEARTBEAT_MS,
          accessRecheckMs: e.API_STREAM_ACCESS_RECHECK_MS,
          maxPerUser: e.API_STREAM_MAX_PER_USER,
          maxTotal: e.API_STREAM_MAX_TOTAL,
        },
      },
    }),
  },
  auditShipper: {
    schema: auditShipperEnv,
    build: (e: z.infer<typeof auditShipperEnv>) => ({
      auditShipper: {
        httpPort: e.AUDIT_SHIPPER_HTTP_PORT,
        id: e.AUDIT_SHIPPER_ID,
        batchSize: e.AUDIT_SHIPPER_BATCH_SIZE,
        pollMs: e.AUDIT_SHIPPER_POLL_MS,
        leaseSeconds: e.AUDIT_SHIPPER_LEASE_SECONDS,
        maxBackoffMs: e.AUDIT_SHIPPER_MAX_BACKOFF_MS,
      },
    }),
  },
} satisfies { readonly [K in SectionName]: { readonly schema: z.ZodObject; readonly build: (e: Env) => ConfigSections[K] } };

/**
 * Rules that only the API enforces at start-up. Emulator tokens are unsigned and firebase-admin
 * accepts them whenever FIREBASE_AUTH_EMULATOR_HOST is set, so in production that variable would
 * let anyone mint a token for any uid: refuse to start instead. A production API must also name
 * its real Firebase project rather than fall back to the offline demo one.
 */
export function apiEnvProblems(e: ApiEnv): string[] {
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    if (e.FIREBASE_AUTH_EMULATOR_HOST !== undefined) {
      problems.push('FIREBASE_AUTH_EMULATOR_HOST: must not be set when NODE_ENV=production (emulator tokens are unsigned)');
    }
    if (e.FIREBASE_PROJECT_ID === undefined) {
      problems.push('FIREBASE_PROJECT_ID: is required when NODE_ENV=production');
    } else if (e.FIREBASE_PROJECT_ID.startsWith('demo-')) {
      problems.push('FIREBASE_PROJECT_ID: a demo- project is for the emulator only, not for NODE_ENV=production');
    }
  }
  if (e.API_PAGE_LIMIT_DEFAULT > e.API_PAGE_LIMIT_MAX) {
    problems.push('API_PAGE_LIMIT_DEFAULT: must not exceed API_PAGE_LIMIT_MAX');
  }
  // A stream looks for a due heartbeat only after a poll, so a shorter heartbeat would not be kept.
  if (e.API_STREAM_HEARTBEAT_MS < e.API_STREAM_POLL_MS) {
    problems.push('API_STREAM_HEARTBEAT_MS: must not be shorter than API_STREAM_POLL_MS');
  }
  if (e.API_STREAM_MAX_PER_USER > e.API_STREAM_MAX_TOTAL) {
    problems.push('API_STREAM_MAX_PER_USER: must not exceed API_STREAM_MAX_TOTAL');
  }
  return problems;
}

/** Rules the audit shipper must satisfy to start. */
export function auditShipperEnvProblems(e: AuditShipperEnv): string[] {
  const problems: string[] = [];
  if (e.ELASTICSEARCH_URL === undefined) problems.push('ELASTICSEARCH_URL: is required by the audit shipper');
  // A lease that ended while its holder still waits for Elasticsearch would let another replica
  // send the same rows again (harmless, same _id, but wasted).
  if (e.AUDIT_SHIPPER_LEASE_SECONDS * 1000 <= 2 * e.ELASTICSEARCH_REQUEST_TIMEOUT_MS) {
    problems.push('AUDIT_SHIPPER_LEASE_SECONDS: must be longer than twice ELASTICSEARCH_REQUEST_TIMEOUT_MS');
  }
  return problems;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T extends object>(o: T): Readonly<T> {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/**
 * Parses the variables of the given sections only, all at once so that every bad one is named,
 * checks the process's own rules, and builds the frozen configuration of those sections.
 */
function load<S extends SectionName>(sections: readonly S[], env: NodeJS.ProcessEnv, rules?: (e: Env) => string[]): ConfigOf<S> {
  const names = [...new Set(sections)];
  const schema = z.object(Object.assign({}, ...names.map((s) => SECTIONS[s].schema.shape)) as z.ZodRawShape);
  // Empty strings count as unset, as in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    // Name the variable and the rule, never the value: it may be a secret.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  // Holds exactly the variables of `names`, which are all that their build functions read.
  const e = parsed.data as Env;
  const problems = rules?.(e) ?? [];
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(Object.assign({}, ...names.map((s) => SECTIONS[s].build(e)))) as ConfigOf<S>;
}

/**
 * The configuration made of the given sections, e.g. `loadConfig(['common', 'mysql'])`; for the
 * processes below prefer their own loader, which also applies their start-up rules.
 */
export function loadConfig<S extends SectionName>(sections: readonly S[], env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  return load(sections, env);
}

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestProcessConfig {
  return load(['common', 'mysql', 'amqp', 'elasticsearch', 'ingest'], env);
}

/** The API's sections plus the rules it must satisfy to start (see apiEnvProblems). */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiProcessConfig {
  return load(['common', 'mysql', 'api'], env, apiEnvProblems);
}

/** The audit shipper's sections plus the rules it must satisfy to start (see auditShipperEnvProblems). */
export function loadAuditShipperConfig(env: NodeJS.ProcessEnv = process.env): AuditShipperProcessConfig {
  return load(['common', 'mysql', 'elasticsearch', 'auditShipper'], env, auditShipperEnvProblems);
}

/**
 * Adapters (npm run adapter): the broker and the log level. `amqpUrl` (from --amqp-url) stands in
 * for AMQP_URL and is checked the same way.
 */
export function loadAdapterConfig(env: NodeJS.ProcessEnv = process.env, amqpUrl?: string): AdapterProcessConfig {
  return load(['common', 'amqp'], amqpUrl === undefined ? env : { ...env, AMQP_URL: amqpUrl });
}

/** db-migrate and other scripts that only need the database. */
export function loadMigrateConfig(env: NodeJS.ProcessEnv = process.env): MigrateProcessConfig {
  return load(['common', 'mysql'], env);
}
