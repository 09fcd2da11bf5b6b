import { z } from 'zod';

/**
 * The one place that reads the environment. Each process asks for the sections it needs; a bad
 * value throws a ConfigError naming every offending variable, and main.ts exits on it.
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

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  MYSQL_URL: url(['mysql:']).default('mysql://root@127.0.0.1:3306/mymonit'),
  AMQP_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  ELASTICSEARCH_URL: url(['http:', 'https:']).optional(),
  INGEST_BATCH_SIZE: positiveInt.max(10000).default(5000),
  INGEST_FLUSH_MS: positiveInt.max(60000).default(200),
  INGEST_PREFETCH: positiveInt.max(65535).optional(),
  INGEST_HTTP_PORT: port.default(9464),
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly logLevel: Env['LOG_LEVEL'];
  readonly mysqlUrl: string;
  readonly amqpUrl: string;
  readonly elasticsearchUrl: string | undefined;
  readonly ingest: {
    readonly batchSize: number;
    readonly flushMs: number;
    readonly prefetch: number;
    readonly httpPort: number;
  };
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings count as unset, as in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    // Name the variable and the rule, never the value: it may be a secret.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  return deepFreeze({
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    mysqlUrl: e.MYSQL_URL,
    amqpUrl: e.AMQP_URL,
    elasticsearchUrl: e.ELASTICSEARCH_URL,
    ingest: {
      batchSize: e.INGEST_BATCH_SIZE,
      flushMs: e.INGEST_FLUSH_MS,
      // Prefetch must cover a whole batch of single-measure messages plus the next one filling up
      // while the previous batch is written.
      prefetch: e.INGEST_PREFETCH ?? e.INGEST_BATCH_SIZE * 2,
      httpPort: e.INGEST_HTTP_PORT,
    },
  });
}
