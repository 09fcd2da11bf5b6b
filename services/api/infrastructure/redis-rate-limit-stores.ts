import { createClient } from '@redis/client';
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { Logger } from '../../shared/logger';
import { redactString } from '../../shared/logger';

/** The two limiters' counters, kept where every API process sees them. */
export interface RateLimitStores {
  readonly perIp: Store;
  readonly perUser: Store;
  close(): Promise<void>;
}

/**
 * A RedisStore that fails open and recovers.
 * - Fails open: while Redis cannot answer, a call counts nothing and the request goes through.
 *   The outage is logged once, by the client's events below; express-rate-limit would otherwise
 *   log every failing call, one line per request.
 * - Recovers: rate-limit-redis loads its Lua scripts once, at init, and a load that failed (Redis
 *   down at start-up) would fail every later call. A failing call loads them again and is tried
 *   once more.
 */
class FailOpenRedisStore extends RedisStore {
  override async init(options: Options): Promise<void> {
    try {
      await super.init(options);
    } catch {
      // Redis is away: the first call after it is back loads the scripts again.
      this.reloadScripts();
    }
  }

  override async increment(key: string): Promise<IncrementResponse> {
    try {
      return await this.twice(() => super.increment(key));
    } catch {
      return { totalHits: 0, resetTime: new Date(Date.now() + this.windowMs) };
    }
  }

  override async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    try {
      return await this.twice(() => super.get(key));
    } catch {
      return undefined;
    }
  }

  override async decrement(key: string): Promise<void> {
    await super.decrement(key).catch(() => undefined);
  }

  override async resetKey(key: string): Promise<void> {
    await super.resetKey(key).catch(() => undefined);
  }

  private async twice<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch {
      this.reloadScripts();
      return call();
    }
  }

  private reloadScripts(): void {
    this.incrementScriptSha = this.loadIncrementScript();
    this.getScriptSha = this.loadGetScript();
    // Awaited by the next call; until then a rejection here is expected, not unhandled.
    this.incrementScriptSha.catch(() => undefined);
    this.getScriptSha.catch(() => undefined);
  }
}

/**
 * Rate-limit counters in Redis (API_RATE_LIMIT_REDIS_URL), shared by every API process, so that
 * N replicas enforce one limit rather than N. While Redis cannot be reached, commands fail at once
 * (no offline queue: a request never waits for Redis) and requests are let through uncounted; the
 * client reconnects by itself. The outage and the recovery are logged once each.
 */
export function createRedisRateLimitStores(url: string, logger: Logger, prefix = 'mymonit:rate-limit:'): RateLimitStores {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000) },
  });
  let reachable: boolean | undefined;
  client.on('ready', () => {
    if (reachable !== true) logger.info('rate-limit store connected', { redis: redactString(url) });
    reachable = true;
  });
  client.on('error', (err: Error) => {
    if (reachable !== false) {
      logger.warn('rate-limit store unreachable: requests are not rate limited until it is back', { redis: redactString(url), err: err.message });
    }
    reachable = false;
  });
  // Resolves once connected; keeps retrying meanwhile, and rejects only when closed first.
  client.connect().catch(() => undefined);
  type Reply = boolean | number | string | Array<boolean | number | string>;
  const sendCommand = (...args: string[]) => client.sendCommand<Reply>(args);
  return {
    perIp: new FailOpenRedisStore({ sendCommand, prefix: `${prefix}ip:` }),
    perUser: new FailOpenRedisStore({ sendCommand, prefix: `${prefix}user:` }),
    /** Waits (at most 2 s) for replies under way, then drops the connection. */
    async close() {
      if (client.isReady) {
        const timer = setTimeout(() => client.destroy(), 2_000);
        await client.close().catch(() => undefined);
        clearTimeout(timer);
      }
      if (client.isOpen) client.destroy();
    },
  };
}
