import fs from 'node:fs';
import { z } from 'zod';
import { MAX_EXPERIMENT_NAME_LENGTH, MAX_MEASURE_NAME_LENGTH, MAX_SOURCE_LENGTH } from '../../services/shared/measure-contract';

/**
 * The gateways file (`rainforest --config gateways.json`), validated once at start. Error messages
 * name the field and the rule, never a value: the file holds install codes and passwords.
 */

export const DEFAULT_POLL_INTERVAL_MS = 6_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_JITTER_RATIO = 0.05;
export const DEFAULT_MAX_BACKOFF_MS = 300_000;
export const DEFAULT_MAX_PENDING_MEASURES = 50_000;
export const EAGLE_PATH = '/cgi-bin/post_manager';

/** Measure type names per quantity; false leaves the quantity out. Values are kW and kWh. */
export const DEFAULT_MEASURES = {
  demand: 'kilowatt',
  summationDelivered: 'kilowatt-hour-delivered',
  summationReceived: 'kilowatt-hour-received',
} as const;

export type Quantity = keyof typeof DEFAULT_MEASURES;

/** What `source` becomes when not configured: the meter's MAC id. */
export const DEFAULT_SOURCE = '{mac}';

const MAC = /^0x[0-9a-fA-F]{1,16}$/;
const name = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const secret = z.string().min(1, 'must not be empty');
const intMs = (min: number, max: number) =>
  z.number().int('must be an integer').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const gatewayUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}, 'must be an http(s) URL without user or password (put credentials in their own fields)');

const measureName = z.union([name(MAX_MEASURE_NAME_LENGTH), z.literal(false)]);

const common = {
  name: name(64),
  url: gatewayUrl,
  experiment: name(MAX_EXPERIMENT_NAME_LENGTH),
  source: z.string().min(1, 'must not be empty').optional(),
  measures: z
    .object({ demand: measureName.optional(), summationDelivered: measureName.optional(), summationReceived: measureName.optional() })
    .strict()
    .optional(),
  pollIntervalMs: intMs(100, 3_600_000).optional(),
  cloudId: z.string().regex(/^[0-9a-fA-F]{1,16}$/, 'must be the cloud id printed on the gateway (hex digits)'),
};

const localGateway = z
  .object({
    ...common,
    api: z.literal('local'),
    installCode: secret,
    /** Poll this meter only; otherwise every electric meter that device_list reports. */
    meterMacId: z.string().regex(MAC, 'must be a MAC id like 0x0007810000123456').optional(),
  })
  .strict();

const legacyGateway = z
  .object({
    ...common,
    api: z.literal('legacy'),
    /** Cloud relay style: sent as the User and Password headers with Cloud-ID. */
    user: z.string().min(1, 'must not be empty').optional(),
    password: secret.optional(),
    /** LAN style: HTTP Basic auth with the cloud id and install code. */
    installCode: secret.optional(),
    /** Sent as <MacId> to address one meter of several. */
    meterMacId: z.string().regex(MAC, 'must be a MAC id like 0x0007810000123456').optional(),
    /** Ask get_current_summation as well (not every firmware answers it). */
    summation: z.boolean().optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const headers = g.user !== undefined || g.password !== undefined;
    if (headers && (g.user === undefined || g.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: [g.user === undefined ? 'user' : 'password'], message: 'is required with user or password' });
    }
    if (headers === (g.installCode !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['installCode'], message: 'give either user and password (cloud relay) or installCode (LAN), not both' });
    }
  });

const fileSchema = z
  .object({
    pollIntervalMs: intMs(100, 3_600_000).default(DEFAULT_POLL_INTERVAL_MS),
    requestTimeoutMs: intMs(50, 600_000).optional(),
    jitterRatio: z.number().min(0, 'must be at least 0').max(0.5, 'must be at most 0.5').default(DEFAULT_JITTER_RATIO),
    maxBackoffMs: intMs(100, 86_400_000).default(DEFAULT_MAX_BACKOFF_MS),
    maxPendingMeasures: z.number().int('must be an integer').min(0).max(10_000_000).default(DEFAULT_MAX_PENDING_MEASURES),
    gateways: z.array(z.discriminatedUnion('api', [localGateway, legacyGateway], { error: 'api must be "local" or "legacy"' })).min(1, 'must list at least one gateway'),
  })
  .strict();

type LocalFile = z.infer<typeof localGateway>;
type LegacyFile = z.infer<typeof legacyGateway>;

interface GatewayBase {
  readonly name: string;
  /** The endpoint commands are posted to. */
  readonly endpoint: string;
  readonly experiment: string;
  /** Template of the measures' source: {mac} and {name} are filled in. */
  readonly source: string;
  /** Measure type per quantity, or undefined to leave it out. */
  readonly measures: Readonly<Record<Quantity, string | undefined>>;
  readonly pollIntervalMs: number;
  readonly cloudId: string;
  readonly meterMacId: string | undefined;
}

export interface LocalGateway extends GatewayBase {
  readonly api: 'local';
  readonly installCode: string;
}

export interface LegacyGateway extends GatewayBase {
  readonly api: 'legacy';
  readonly auth: { readonly kind: 'headers'; readonly user: string; readonly password: string } | { readonly kind: 'basic'; readonly installCode: string };
  readonly summation: boolean;
}

export type GatewayConfig = LocalGateway | LegacyGateway;

export interface RainforestConfig {
  readonly requestTimeoutMs: number;
  readonly jitterRatio: number;
  readonly maxBackoffMs: number;
  readonly maxPendingMeasures: number;
  readonly gateways: readonly GatewayConfig[];
}

export class GatewayConfigError extends Error {
  constructor(
    file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid gateways file ${file}:\n  ${problems.join('\n  ')}`);
    this.name = 'GatewayConfigError';
  }
}

function endpointOf(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = EAGLE_PATH;
  return u.toString();
}

function base(g: LocalFile | LegacyFile, defaultInterval: number): GatewayBase {
  const measures = { ...DEFAULT_MEASURES, ...g.measures };
  return {
    name: g.name,
    endpoint: endpointOf(g.url),
    experiment: g.experiment,
    source: g.source ?? DEFAULT_SOURCE,
    measures: {
      demand: measures.demand || undefined,
      summationDelivered: measures.summationDelivered || undefined,
      summationReceived: measures.summationReceived || undefined,
    },
    pollIntervalMs: g.pollIntervalMs ?? defaultInterval,
    cloudId: g.cloudId,
    meterMacId: g.meterMacId?.toLowerCase(),
  };
}

function describePath(path: readonly PropertyKey[], doc: unknown): string {
  let out = '';
  let node: unknown = doc;
  for (const key of path) {
    if (typeof key === 'number') {
      const item: unknown = Array.isArray(node) ? node[key] : undefined;
      const label = item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string' ? ` ("${(item as { name: string }).name}")` : '';
      out += `[${key}]${label}`;
    } else {
      out += `${out ? '.' : ''}${String(key)}`;
    }
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return out || 'file';
}

/** Validates a parsed gateways document; `file` names it in errors. */
export function parseGatewayConfig(doc: unknown, file: string): RainforestConfig {
  const parsed = fileSchema.safeParse(doc, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined),
  });
  if (!parsed.success) {
    throw new GatewayConfigError(file, parsed.error.issues.map((i) => `${describePath(i.path, doc)}: ${i.message}`));
  }
  const c = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  c.gateways.forEach((g, i) => {
    if (seen.has(g.name)) problems.push(`gateways[${i}].name: "${g.name}" is used twice`);
    seen.add(g.name);
  });
  const gateways = c.gateways.map((g): GatewayConfig => {
    if (g.api === 'local') return { ...base(g, c.pollIntervalMs), api: 'local', installCode: g.installCode };
    return {
      ...base(g, c.pollIntervalMs),
      api: 'legacy',
      auth:
        g.installCode !== undefined
          ? { kind: 'basic', installCode: g.installCode }
          : // superRefine guarantees user and password here.
            { kind: 'headers', user: g.user ?? '', password: g.password ?? '' },
      summation: g.summation ?? true,
    };
  });
  gateways.forEach((g, i) => {
    if (sourceFor(g, `0x${'0'.repeat(16)}`).length > MAX_SOURCE_LENGTH) {
      problems.push(`gateways[${i}] ("${g.name}").source: must be at most ${MAX_SOURCE_LENGTH} characters once {mac} and {name} are filled in`);
    }
  });
  const shortest = Math.min(...gateways.map((g) => g.pollIntervalMs));
  const requestTimeoutMs = c.requestTimeoutMs ?? Math.min(DEFAULT_REQUEST_TIMEOUT_MS, Math.floor(shortest * 0.8));
  if (requestTimeoutMs >= shortest) {
    problems.push(`requestTimeoutMs: must be shorter than the shortest poll interval (${shortest} ms), or a hung gateway would miss its turns`);
  }
  if (problems.length) throw new GatewayConfigError(file, problems);
  return { requestTimeoutMs, jitterRatio: c.jitterRatio, maxBackoffMs: c.maxBackoffMs, maxPendingMeasures: c.maxPendingMeasures, gateways };
}

function jsonProblem(err: unknown, text: string): string {
  // V8 may quote part of the input in its message; the file holds secrets, so give a position only.
  const m = err instanceof Error ? /position (\d+)/.exec(err.message) : null;
  if (!m) return 'not valid JSON';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return `not valid JSON (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

export function loadGatewayConfig(file: string): RainforestConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayConfigError(file, [`cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new GatewayConfigError(file, [jsonProblem(err, text)]);
  }
  return parseGatewayConfig(doc, file);
}

/** The source of a meter's measures. */
export function sourceFor(gateway: GatewayConfig, meterMac: string): string {
  return gateway.source.replaceAll('{mac}', meterMac).replaceAll('{name}', gateway.name);
}
