import { connect } from 'mqtt';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { redactString } from '../../services/shared/logger';
import { JournalFullError } from '../sdk/durable-sink';
import type { DurableSink } from '../sdk/durable-sink';
import { PAYLOAD_EXCERPT_CHARS } from './payloads';
import { decodeMessage } from './subscriptions';
import type { Subscription } from './subscriptions';

/**
 * MQTT → durable sink bridge. It subscribes with QoS 1 in a persistent session (MQTT 5, Clean
 * Start off, a session expiry, a fixed client id), so the broker keeps every message the bridge
 * has not acknowledged, across disconnects and restarts. A message is acknowledged (PUBACK) only
 * after the sink has made its measures durable; one the sink refuses (journal full, disk error)
 * is never acknowledged: the bridge drops the connection and comes back later, and the broker
 * delivers it again together with what arrived meanwhile. A payload that can never become a
 * measure is logged with its topic and reason and acknowledged, so it cannot block the session.
 *
 * MQTT.js delays a PUBACK only through `customHandleAcks`, which it honours with protocol
 * version 5 only and calls one message at a time per connection: a connection's throughput is
 * one journal append (one fsync) per message. Several connections on shared subscriptions
 * (`connections`) let appends share fsyncs (group commit).
 */

export interface BridgeLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface BridgeTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
}

export interface BridgeOptions {
  /** mqtt://host:1883 or mqtts://host:8883. */
  readonly url: string;
  /** Fixed, so the broker finds the session again. */
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: BridgeTls;
  readonly subscriptions: readonly Subscription[];
  /** How long the broker keeps the session (and queues messages) while the bridge is away. */
  readonly sessionExpirySeconds: number;
  readonly keepaliveSeconds?: number;
  /** Between reconnection attempts after a lost connection. */
  readonly reconnectPeriodMs?: number;
  /** Longest pause after the sink refused a message (the pause doubles from the sink's hint up to this). */
  readonly maxPauseMs?: number;
  /** Unacknowledged QoS 1 messages the broker may send ahead (MQTT 5 Receive Maximum). */
  readonly receiveMaximum?: number;
  /** How long stop() waits for the append in hand before leaving it unacknowledged (default 10 s). */
  readonly stopWaitMs?: number;
  /** Hears every change of the stats, e.g. for metrics. */
  readonly onCount?: (stat: keyof BridgeStats, n: number) => void;
  /**
   * MQTT connections (default 1). MQTT.js hands a connection's next message over only once the
   * previous one is acknowledged, so one connection takes one journal fsync per message; with
   * several, each is its own persistent session (`<clientId>-1` …) on shared subscriptions, and
   * their appends share fsyncs. Keep the number fixed for a client id: the sessions of members
   * dropped later keep their share of messages until they expire.
   */
  readonly connections?: number;
}

export interface BridgeStats {
  /** QoS 1 messages acknowledged after their measures were appended, or as undecodable. */
  acknowledged: number;
  /** Messages with measures appended to the sink (any QoS). */
  appendedMessages: number;
  appendedMeasures: number;
  /** Messages or parts of messages that could not become measures (reported, acknowledged). */
  badPayloads: number;
  /** Retained messages without a timestamp, skipped as stale state. */
  skippedRetained: number;
  /** Times the sink refused a message and the bridge paused. */
  pauses: number;
  /** QoS 0 messages the sink refused: the broker keeps nothing to send again, so they are lost. */
  lostQos0: number;
}

/** The first connection failed: wrong URL, credentials or TLS settings, or the broker is down. */
export class BridgeConnectError extends Error {
  constructor(why: string) {
    super(`cannot connect to the MQTT broker: ${why}`);
    this.name = 'BridgeConnectError';
  }
}

const DEFAULT_MAX_PAUSE_MS = 60_000;
const DEFAULT_STOP_WAIT_MS = 10_000;

type Outcome = 'acknowledge' | 'withhold';

function describe(err: unknown): string {
  return redactString(err instanceof Error ? err.message : String(err));
}

/** One MQTT connection of the bridge and the deliveries it has in hand. */
class Connection {
  client: MqttClient | undefined;
  /**
   * Bumped whenever the connection ends. A delivery's PUBACK is sent only on the connection it
   * arrived on: after a reconnect the broker sends the message again with the same packet id, and
   * a late PUBACK on the new connection could acknowledge a different message that reused the id.
   */
  generation = 0;
  /** The delivery being appended; MQTT.js hands over the next one only after it is acknowledged. */
  inFlight: Promise<void> = Promise.resolve();
  connected = false;
  connectedOnce = false;

  constructor(readonly clientId: string) {}
}

export class MqttBridge {
  readonly stats: BridgeStats = { acknowledged: 0, appendedMessages: 0, appendedMeasures: 0, badPayloads: 0, skippedRetained: 0, pauses: 0, lostQos0: 0 };
  private readonly connections: readonly Connection[];
  private consecutivePauses = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly opts: BridgeOptions,
    private readonly sink: DurableSink,
    private readonly log: BridgeLog,
  ) {
    const n = opts.connections ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError('connections must be a positive integer');
    this.connections = n === 1 ? [new Connection(opts.clientId)] : Array.from({ length: n }, (_, i) => new Connection(`${opts.clientId}-${i + 1}`));
  }

  private count(stat: keyof BridgeStats, n = 1): void {
    this.stats[stat] += n;
    this.opts.onCount?.(stat, n);
  }

  /** Whether every connection is up and taking messages (for readiness). */
  get taking(): boolean {
    return this.connections.every((c) => c.connected) && this.resumeTimer === undefined && !this.stopping;
  }

  /** The client ids of the bridge's sessions. */
  get clientIds(): string[] {
    return this.connections.map((c) => c.clientId);
  }

  /**
   * Connects and subscribes; resolves once the broker granted the subscriptions on every
   * connection, rejects with BridgeConnectError if a first connection fails or a subscription is
   * refused.
   */
  async start(): Promise<void> {
    const started = await Promise.allSettled(this.connections.map((c) => this.startOne(c)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  private startOne(conn: Connection): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const client = this.connect(conn, (refused) => {
        if (refused === undefined) resolve();
        else fail(`the broker refused the subscription(s) ${refused}`);
      });
      const fail = (why: string): void => {
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        if (conn.client === client) conn.client = undefined;
        void client.endAsync(true).catch(() => undefined);
        reject(new BridgeConnectError(why));
      };
      const onError = (err: Error): void => fail(describe(err));
      const onClose = (): void => fail('connection closed before the broker accepted it');
      client.once('error', onError);
      client.once('close', onClose);
      client.once('connect', () => {
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
      });
    });
  }

  private clientOptions(clientId: string): IClientOptions {
    const o = this.opts;
    return {
      clientId,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: o.sessionExpirySeconds, receiveMaximum: o.receiveMaximum ?? 100 },
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: 10_000,
      // The bridge subscribes on every connect itself, with Retain Handling 1.
      resubscribe: false,
      username: o.username,
      password: o.password,
      ...(o.tls ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
    };
  }

  /** `onSubscribed` hears, once, how the first subscription went: undefined, or the refused filters. */
  private connect(conn: Connection, onSubscribed?: (refused: string | undefined) => void): MqttClient {
    const self: { client?: MqttClient } = {};
    const options: IClientOptions = {
      ...this.clientOptions(conn.clientId),
      // MQTT.js delivers nothing before connect() has returned, so self.client is set by then.
      customHandleAcks: (topic: string, payload: Buffer, packet: IPublishPacket, done: (error: Error | number, code?: number) => void) => {
        if (self.client) this.onQos1(conn, self.client, topic, payload, packet, done);
      },
    };
    const c = connect(this.opts.url, options);
    self.client = c;
    conn.client = c;
    c.on('connect', (connack) => {
      conn.connected = true;
      this.log.info(conn.connectedOnce ? 'reconnected to the MQTT broker' : 'connected to the MQTT broker', {
        clientId: conn.clientId,
        sessionPresent: connack.sessionPresent,
      });
      conn.connectedOnce = true;
      void this.subscribe(c).then((refused) => {
        onSubscribed?.(refused);
        onSubscribed = undefined;
      });
    });
    c.on('close', () => {
      conn.generation++;
      if (conn.connected && conn.client === c && !this.stopping) this.log.warn('MQTT connection lost; reconnecting', { clientId: conn.clientId });
      conn.connected = false;
    });
    c.on('error', (err) => {
      if (conn.connectedOnce) this.log.error('MQTT client error', { clientId: conn.clientId, error: describe(err) });
    });
    c.on('message', (topic, payload, packet) => {
      // QoS 1 deliveries were handled (and acknowledged) in customHandleAcks already.
      if (packet.qos === 0) void this.onQos0(topic, payload, packet);
    });
    return c;
  }

  /**
   * The filters as subscribed: with several connections, shared subscriptions of one group
   * (MQTT 5 `$share/<group>/<filter>`), so the broker hands each message to one of them.
   */
  private filters(): string[] {
    if (this.connections.length === 1) return this.opts.subscriptions.map((s) => s.topic);
    const group = this.opts.clientId.replace(/[/+#]/g, '_');
    return this.opts.subscriptions.map((s) => `$share/${group}/${s.topic}`);
  }

  /** Subscribes with QoS 1 and Retain Handling 1; returns the filters the broker refused, if any. */
  private async subscribe(client: MqttClient): Promise<string | undefined> {
    const map = Object.fromEntries(this.filters().map((topic) => [topic, { qos: 1 as const, rh: 1 }]));
    try {
      const granted = await client.subscribeAsync(map);
      const refused = granted.filter((g) => g.qos >= 0x80);
      if (refused.length === 0) return undefined;
      this.log.error('the broker refused subscriptions', { topics: refused.map((g) => ({ topic: g.topic, reasonCode: g.qos })) });
      return refused.map((g) => `${g.topic} (reason code ${g.qos})`).join(', ');
    } catch (err) {
      if (!this.stopping) this.log.error('subscribing failed', { error: describe(err) });
      return `(${describe(err)})`;
    }
  }

  private onQos1(
    conn: Connection,
    client: MqttClient,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (error: Error | number, code?: number) => void,
  ): void {
    // While stopping or paused the message is left unacknowledged: the broker sends it again.
    if (this.stopping || client !== conn.client) return;
    const generation = conn.generation;
    conn.inFlight = this.handle(topic, payload, packet).then((outcome) => {
      if (outcome === 'withhold') return;
      // MQTT.js would queue a PUBACK sent while disconnected and send it on the next connection.
      if (generation !== conn.generation || client !== conn.client || !client.connected) return;
      this.count('acknowledged');
      done(0);
    });
  }

  private async onQos0(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const outcome = await this.handle(topic, payload, packet, false);
    if (outcome === 'withhold') this.count('lostQos0');
  }

  /** Decodes and appends; never throws. */
  private async handle(topic: string, payload: Buffer, packet: IPublishPacket, canWithhold = true): Promise<Outcome> {
    const decoded = decodeMessage(this.opts.subscriptions, topic, payload, Date.now() * 1000);
    if (!decoded) {
      this.count('badPayloads');
      this.log.warn('MQTT message on a topic no subscription decodes (left over in the persistent session?); acknowledged', { topic });
      return 'acknowledge';
    }
    if (decoded.problems.length) {
      this.count('badPayloads');
      this.log.warn('bad MQTT payload', {
        topic,
        reason: decoded.problems.join('; '),
        payload: payload.toString('utf8', 0, Math.min(payload.length, PAYLOAD_EXCERPT_CHARS)),
        keptMeasures: decoded.measures.length,
      });
    }
    if (decoded.measures.length === 0) return 'acknowledge';
    // A retained message delivered because of a (re)subscription is stale state: without its own
    // timestamp it would be stored as a new reading at the time of delivery.
    if (packet.retain && !decoded.stamped) {
      this.count('skippedRetained');
      this.log.info('retained MQTT message without a timestamp skipped', { topic });
      return 'acknowledge';
    }
    try {
      await this.sink.append(decoded.measures);
    } catch (err) {
      if (!canWithhold) {
        this.log.error('QoS 0 MQTT message lost: the journal refused it and the broker keeps no copy', { topic, error: describe(err) });
        return 'withhold';
      }
      this.pause(err);
      return 'withhold';
    }
    this.consecutivePauses = 0;
    this.count('appendedMessages');
    this.count('appendedMeasures', decoded.measures.length);
    return 'acknowledge';
  }

  private pause(err: unknown): void {
    if (this.resumeTimer !== undefined || this.stopping) return;
    this.count('pauses');
    this.consecutivePauses++;
    const hintMs = err instanceof JournalFullError ? err.retryAfterSeconds * 1000 : 1000;
    const delay = Math.min(this.opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS, hintMs * 2 ** Math.min(this.consecutivePauses - 1, 20));
    this.log.error(
      err instanceof JournalFullError
        ? 'journal full: MQTT message not acknowledged; disconnecting so the broker holds messages until there is room'
        : 'journal append failed: MQTT message not acknowledged; disconnecting so the broker holds messages',
      { error: describe(err), resumeInMs: delay },
    );
    // Every connection goes: they all feed the same journal.
    const clients = this.connections.map((conn) => {
      const client = conn.client;
      conn.client = undefined;
      conn.generation++;
      conn.connected = false;
      return client;
    });
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      if (!this.stopping) for (const conn of this.connections) this.connect(conn);
    }, delay);
    // Forced: no DISCONNECT handshake waits on the deliveries left unacknowledged.
    for (const client of clients) void client?.endAsync(true).catch(() => undefined);
  }

  /** Finishes the messages in hand (up to a bound), then disconnects; unacknowledged messages stay with the broker. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.connections.map((c) => c.inFlight)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.stopWaitMs ?? DEFAULT_STOP_WAIT_MS))),
    ]);
    clearTimeout(timer);
    await Promise.all(
      this.connections.map(async (conn) => {
        const client = conn.client;
        conn.client = undefined;
        await client?.endAsync(false).catch(() => undefined);
      }),
    );
  }
}
