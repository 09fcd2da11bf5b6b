import fs from 'node:fs';
import { Counter } from 'prom-client';
import { redactString } from '../../services/shared/logger';
import { defineKind, EXIT, UsageError } from '../sdk/cli';
import type { AdapterContext, OptionValues } from '../sdk/cli';
import { MqttBridge } from './mqtt-bridge';
import type { BridgeTls } from './mqtt-bridge';
import { DEFAULT_TOPIC, loadSubscriptions, topicSubscriptions } from './subscriptions';
import type { Subscription } from './subscriptions';

const DEFAULT_URL = 'mqtt://127.0.0.1:1883';
const DEFAULT_CLIENT_ID = 'mymonit-mqtt-bridge';
const DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600;

const OPTIONS = {
  url: { type: 'string', short: 'u', valueName: 'URL', description: `broker, mqtt://host:1883 or mqtts://host:8883 (default ${DEFAULT_URL})` },
  'client-id': {
    type: 'string',
    valueName: 'ID',
    description: `MQTT client id; the broker keeps the session under it, so keep it fixed (default ${DEFAULT_CLIENT_ID})`,
  },
  topic: { type: 'string', short: 't', valueName: 'FILTERS', description: `topic filters in the mymonit format, comma-separated (default ${DEFAULT_TOPIC})` },
  config: { type: 'string', short: 'c', valueName: 'FILE', description: 'subscriptions file (JSON, see below), e.g. for ThingsBoard telemetry' },
  username: { type: 'string', valueName: 'NAME', description: 'user name for the broker' },
  'password-file': { type: 'string', valueName: 'PATH', description: 'file holding the password for the broker (first line)' },
  ca: { type: 'string', valueName: 'PATH', description: 'CA certificate(s) to verify the broker with (PEM), for mqtts://' },
  cert: { type: 'string', valueName: 'PATH', description: 'client certificate (PEM), for mqtts:// with client authentication' },
  key: { type: 'string', valueName: 'PATH', description: 'private key of --cert (PEM)' },
  insecure: { type: 'boolean', description: 'do not verify the broker’s TLS certificate (tests only)' },
  connections: {
    type: 'string',
    valueName: 'N',
    description: 'MQTT connections sharing the subscriptions (MQTT 5 shared subscriptions; default 1); more take more messages/s',
  },
  'session-expiry': {
    type: 'string',
    valueName: 'SECONDS',
    description: `how long the broker keeps the session and queues messages while the bridge is away (default ${DEFAULT_SESSION_EXPIRY_S})`,
  },
} as const;

type MqttValues = OptionValues<typeof OPTIONS>;

const DESCRIPTION = `
Bridges an MQTT broker (e.g. Mosquitto) to MyMONIT. Subscribes with QoS 1 in a persistent session
(MQTT 5, fixed client id), stores each message's measures in the journal, and only then
acknowledges it; while the journal is full nothing is acknowledged and the broker keeps the
messages. Payloads that can never become measures are logged (topic and reason) and acknowledged.
Runs until SIGINT or SIGTERM; logs are JSON lines on stdout.

Formats:
  mymonit      topic …/<experiment>/<source>/<measure> (the last three levels), payload a number
               (12.5, stamped with the time it is received) or JSON {"value": 12.5, "timestamp": 1700000000}
               (timestamp: epoch seconds, epoch milliseconds, or ISO-8601 with an offset)
  thingsboard  ThingsBoard telemetry: {"temperature": 22.5}, {"ts": 1451649600512, "values": {…}}
               or an array of those; each key is a measure type; experiment and source configured

Subscriptions file (--config):
  {"subscriptions": [
    {"topic": "mymonit/+/+/+"},
    {"topic": "v1/devices/me/telemetry", "format": "thingsboard", "experiment": "greenhouse", "source": "tb-1"},
    {"topic": "farm/+/telemetry", "format": "thingsboard", "experiment": "farm", "source": "{1}"}
  ]}
  {1}, {2}, … in experiment and source are the levels the "+" wildcards matched.

Retained messages delivered on subscribing are skipped unless they carry their own timestamp.
Broker limits apply while the bridge is away, paused or slower than the devices: Mosquitto keeps
at most max_queued_messages (default 1000) per session and drops the rest, so raise it (0: no limit)
for a bridge that must lose nothing.

Throughput: each connection takes one message per journal fsync (MQTT.js acknowledges one message
at a time). --connections N opens N sessions (<client-id>-1 … -N) on shared subscriptions
($share/<client-id>/<filter>), whose appends share fsyncs. Keep N fixed for a client id.`;

function readFile(option: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --${option} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function subscriptionsOf(values: MqttValues): Subscription[] {
  const fromTopics = values.topic !== undefined ? topicSubscriptions(values.topic) : [];
  const fromFile = values.config !== undefined ? loadSubscriptions(values.config) : [];
  const all = [...fromTopics, ...fromFile];
  return all.length ? all : topicSubscriptions(DEFAULT_TOPIC);
}

function brokerUrl(text: string | undefined): string {
  const url = text ?? DEFAULT_URL;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError('--url must be a URL like mqtt://host:1883');
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(protocol)) throw new UsageError('--url must use mqtt://, mqtts://, ws:// or wss://');
  return url;
}

function positiveInt(option: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw new UsageError(`--${option} must be an integer from 1 to ${max}`);
  return n;
}

async function run(values: MqttValues, ctx: AdapterContext): Promise<number> {
  const url = brokerUrl(values.url);
  const subscriptions = subscriptionsOf(values);
  const password = readFile('password-file', values['password-file'])?.toString('utf8').split(/\r?\n/)[0];
  if (password !== undefined && values.username === undefined) throw new UsageError('--password-file needs --username');
  const tlsFiles = { ca: readFile('ca', values.ca), cert: readFile('cert', values.cert), key: readFile('key', values.key) };
  if ((tlsFiles.cert === undefined) !== (tlsFiles.key === undefined)) throw new UsageError('--cert and --key go together');
  const tls: BridgeTls | undefined =
    tlsFiles.ca || tlsFiles.cert || values.insecure ? { ...tlsFiles, rejectUnauthorized: !values.insecure } : undefined;
  const sessionExpirySeconds = positiveInt('session-expiry', values['session-expiry'], DEFAULT_SESSION_EXPIRY_S, 0xffffffff);
  const connections = positiveInt('connections', values.connections, 1, 64);

  const saf = await ctx.startStoreAndForward();
  const events = new Counter({
    name: 'mymonit_adapter_mqtt_events_total',
    help: 'MQTT bridge events: acknowledged, appendedMessages, appendedMeasures, badPayloads, skippedRetained, pauses, lostQos0',
    labelNames: ['event'],
    registers: [saf.metrics.registry],
  });
  const bridge = new MqttBridge(
    {
      url,
      clientId: values['client-id'] ?? DEFAULT_CLIENT_ID,
      username: values.username,
      password,
      tls,
      subscriptions,
      sessionExpirySeconds,
      connections,
      onCount: (event, n) => events.inc({ event }, n),
    },
    saf.sink,
    saf.logger,
  );
  saf.addReadinessCheck(() => (bridge.taking ? undefined : 'not taking MQTT messages (disconnected, or paused while the journal is full)'));
  try {
    await bridge.start();
    saf.logger.info('bridging MQTT', { url: redactString(url), clientIds: bridge.clientIds, subscriptions });
    if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    // The message in hand is appended and acknowledged first; the journal closes after.
    await bridge.stop();
    saf.logger.info('MQTT bridge stopped', { ...bridge.stats });
  } finally {
    await bridge.stop();
    await saf.stop();
  }
  return bridge.stats.lostQos0 > 0 ? EXIT.failure : EXIT.ok;
}

export const mqttAdapter = defineKind({
  name: 'mqtt',
  summary: 'bridges MQTT topics (mymonit/<experiment>/<source>/<measure>, ThingsBoard telemetry) with QoS 1',
  description: DESCRIPTION,
  options: OPTIONS,
  durable: true,
  run,
});
