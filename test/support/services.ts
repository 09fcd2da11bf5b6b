import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import type { MessageProperties } from 'amqplib';
import { createPool } from '../../db/src/pool';
import type { Pool } from '../../db/src/pool';
import { dropDatabase, migrate } from '../../db/src/migrate';
import { assertTopology, TOPOLOGY } from '../../services/shared/amqp-topology';
import { decodeMeasureMessage } from '../../services/shared/measure-contract';
import type { Measure } from '../../services/shared/measure-contract';

/**
 * Per-test-file resources on the machine's real MariaDB and RabbitMQ. Each file gets its own
 * database and vhost, named after the file plus a random suffix, so test files can run in
 * parallel and never touch demo data; cleanup drops both.
 */

export const MYSQL_ROOT = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const AMQP_HOST = process.env.TEST_AMQP_HOST ?? '127.0.0.1:5672';
export const RABBIT_MGMT = process.env.TEST_RABBIT_MGMT ?? 'http://127.0.0.1:15672';
const RABBIT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export function uniqueName(prefix: string): string {
  return `${prefix.replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

export interface TestDatabase {
  readonly url: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const url = `${MYSQL_ROOT}/${uniqueName(`mymonit_test_${prefix}`)}`;
  await migrate(url);
  const pool = createPool(url, { connectionLimit: 4 });
  return {
    url,
    pool,
    drop: async () => {
      await pool.end().catch(() => undefined);
      await dropDatabase(url);
    },
  };
}

async function mgmt(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${RABBIT_MGMT}/api${path}`, {
    method,
    headers: { authorization: RABBIT_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`RabbitMQ management ${method} ${path}: ${res.status} ${await res.text()}`);
  }
}

export interface TestVhost {
  readonly name: string;
  /** amqp URL of the vhost through the real broker. */
  readonly url: string;
  /** amqp URL of the vhost through another host:port, e.g. a test proxy. */
  urlVia(hostPort: string): string;
  delete(): Promise<void>;
}

export async function createTestVhost(prefix: string): Promise<TestVhost> {
  const name = uniqueName(`mymonit_test_${prefix}`);
  await mgmt('PUT', `/vhosts/${encodeURIComponent(name)}`, {});
  await mgmt('PUT', `/permissions/${encodeURIComponent(name)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  const urlVia = (hostPort: string): string => `amqp://guest:guest@${hostPort}/${encodeURIComponent(name)}`;
  const url = urlVia(AMQP_HOST);
  // Declare the topology up front so messages published before a consumer starts are queued.
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await assertTopology(ch);
  await conn.close();
  return { name, url, urlVia, delete: () => mgmt('DELETE', `/vhosts/${encodeURIComponent(name)}`) };
}

/** Publishes bodies with publisher confirms; resolves when the broker has confirmed all. */
export async function publishBodies(url: string, bodies: Iterable<string | Buffer>, messageIds = false): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    let n = 0;
    for (const b of bodies) {
      const ok = ch.publish('mymonit', 'measures', Buffer.isBuffer(b) ? b : Buffer.from(b), {
        persistent: true,
        contentType: 'application/json',
        messageId: messageIds ? `m-${n}` : undefined,
      });
      n++;
      if (!ok) await new Promise((resolve) => ch.once('drain', resolve));
      if (n % 5000 === 0) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

export interface ReceivedMessage {
  readonly measures: Measure[];
  readonly properties: MessageProperties;
}

/**
 * Takes (and acks) every message waiting in the queue, decoded; each must be a valid measure
 * message. What an adapter published and the broker confirmed is all there.
 */
export async function takeAll(url: string, queue: string = TOPOLOGY.queue): Promise<ReceivedMessage[]> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const received: ReceivedMessage[] = [];
    for (;;) {
      const msg = await ch.get(queue);
      if (!msg) return received;
      const decoded = decodeMeasureMessage(msg.content);
      expect(decoded.rejections).toEqual([]);
      received.push({ measures: decoded.measures, properties: msg.properties });
      ch.ack(msg);
    }
  } finally {
    await conn.close();
  }
}

export async function queueDepth(url: string, queue = 'measures'): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const [rows] = await pool.query(sql, params);
  return Number((rows as Array<Record<string, unknown>>)[0]?.n ?? 0);
}

/** A loopback TCP port free at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
