import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { AdapterProcess, createBenchVhost, freePort, positiveInt, procMemory, sleep } from './bench-services';

/**
 * `node dist/bench/mqtt.bench.js [--messages N | --quick] [--publishers N] [--window N] [--connections 1,4]`
 *
 * QoS 1 MQTT messages per second through the MQTT bridge (`adapters/cli.js mqtt`, the real
 * process) into its disk journal, and on to RabbitMQ. Publishers send one measure per message to
 * the machine's Mosquitto; every message the bridge acknowledges is fsynced in the journal first.
 * Reported: messages/s journaled (= acknowledged to the broker), messages/s confirmed by RabbitMQ,
 * fsyncs per message, and the adapter's memory, for each --connections value given (the bridge's
 * MQTT connections on shared subscriptions). Progress comes from the adapter's /metrics.
 *
 * Publishers keep at most --window messages ahead of the bridge: Mosquitto holds only
 * max_queued_messages (default 1000) per session beyond those in flight and drops the rest, so
 * flooding it would measure the broker's limit, not the bridge. `benchMqtt` is also called from
 * bench/adapters.bench.ts. The last line of output (run alone) is JSON.
 */

const USAGE = 'usage: node dist/bench/mqtt.bench.js [--messages N | --quick] [--publishers N] [--window N] [--connections N,…]';
const DEFAULT_MESSAGES = 50_000;
const QUICK_MESSAGES = 10_000;
const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';
const STALL_MS = 60_000;

export interface MqttBenchOptions {
  /** The vhost the adapter forwards to. */
  readonly amqpUrl: string;
  /** An empty directory for the adapter's journal. */
  readonly journalDir: string;
  readonly messages: number;
  readonly brokerUrl?: string;
  /** Concurrent publishing clients (default 4). */
  readonly publishers?: number;
  /** Most messages published and not yet journaled (default 500). */
  readonly window?: number;
  /** The bridge's MQTT connections (--connections; default 1). */
  readonly connections?: number;
  /** Progress lines; none when left out. */
  readonly log?: (line: string) => void;
}

export interface MqttBenchResult {
  readonly messages: number;
  /** Journaled, hence acknowledged to the broker. */
  readonly messagesPerSec: number;
  readonly journaledSeconds: number;
  /** Confirmed by RabbitMQ (the adapter's forwarder), from the first publish. */
  readonly confirmedPerSec: number;
  readonly confirmedSeconds: number;
  readonly fsyncsPerMessage: number;
  readonly publishers: number;
  readonly window: number;
  readonly connections: number;
  readonly adapterPeakRssMiB: number;
}

const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Counters of the adapter's /metrics this bench follows. */
interface Progress {
  readonly journaled: number;
  readonly confirmed: number;
  readonly syncs: number;
}

async function readProgress(port: number): Promise<Progress> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return {
    journaled: value('mymonit_adapter_journal_appended_measures_total'),
    confirmed: value('mymonit_adapter_confirmed_measures_total'),
    syncs: value('mymonit_adapter_journal_syncs_total'),
  };
}

/** Ends the bridge's persistent session so the broker keeps nothing for it. */
async function removeSession(brokerUrl: string, clientId: string): Promise<void> {
  const c = await connectAsync(brokerUrl, { clientId, protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
  await c.endAsync();
}

export async function benchMqtt(opts: MqttBenchOptions): Promise<MqttBenchResult> {
  const brokerUrl = opts.brokerUrl ?? DEFAULT_BROKER;
  const publishers = opts.publishers ?? 4;
  const window = opts.window ?? 500;
  const connections = opts.connections ?? 1;
  const log = opts.log ?? ((): void => undefined);
  const run = randomBytes(4).toString('hex');
  const prefix = `mymonit-bench-${run}`;
  const clientId = `mymonit-bench-bridge-${run}`;
  const metricsPort = await freePort();

  // Payloads are built before anything is timed: one measure per message, distinct timestamps.
  const t0s = 1_700_000_000;
  const payloads = Array.from({ length: opts.messages }, (_, i) => ({
    topic: `${prefix}/mymonit/bench-${i % 4}/sensor-${i % 8}/hertz`,
    body: JSON.stringify({ value: (i % 1000) / 10, timestamp: t0s + i / 1000 }),
  }));

  const adapter = AdapterProcess.start([
    'mqtt',
    '--url',
    brokerUrl,
    '--client-id',
    clientId,
    '--topic',
    `${prefix}/mymonit/+/+/+`,
    '--journal-dir',
    opts.journalDir,
    '--metrics-port',
    String(metricsPort),
    '--connections',
    String(connections),
    '--amqp-url',
    opts.amqpUrl,
  ]);
  const clients: MqttClient[] = [];
  try {
    for (const deadline = Date.now() + 30_000; ; ) {
      const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      if (Date.now() > deadline || adapter.proc.exitCode !== null) throw new Error(`the mqtt adapter did not become ready\n${adapter.output()}`);
      await sleep(50);
    }
    for (let i = 0; i < publishers; i++) clients.push(await connectAsync(brokerUrl, { clientId: `${clientId}-pub-${i}`, protocolVersion: 5 }));

    let progress: Progress = { journaled: 0, confirmed: 0, syncs: 0 };
    let polling = true;
    const poller = (async () => {
      while (polling) {
        progress = await readProgress(metricsPort).catch(() => progress);
        await sleep(10);
      }
    })();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        for (;;) {
          while (next - progress.journaled >= window) await sleep(2);
          const i = next++;
          if (i >= payloads.length) return;
          await client.publishAsync(payloads[i].topic, payloads[i].body, { qos: 1 });
        }
      }),
    );
    log(`mqtt: ${opts.messages} messages published by ${publishers} clients, window ${window}, bridge connections ${connections}`);

    const waitUntil = async (done: () => boolean, what: string): Promise<number> => {
      let last = -1;
      let lastChange = performance.now();
      while (!done()) {
        const seen = progress.journaled + progress.confirmed;
        if (seen !== last) {
          last = seen;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > STALL_MS) {
          throw new Error(`mqtt bench stalled waiting for ${what} (journaled ${progress.journaled}, confirmed ${progress.confirmed})\n${adapter.output()}`);
        }
        await sleep(5);
      }
      return performance.now() - started;
    };
    const journaledMs = await waitUntil(() => progress.journaled >= opts.messages, 'the journal');
    log(`mqtt: journaled (acknowledged) in ${(journaledMs / 1000).toFixed(2)} s: ${round((opts.messages / journaledMs) * 1000)} messages/s`);
    const confirmedMs = await waitUntil(() => progress.confirmed >= opts.messages, 'RabbitMQ');
    log(`mqtt: confirmed by RabbitMQ in ${(confirmedMs / 1000).toFixed(2)} s: ${round((opts.messages / confirmedMs) * 1000)} messages/s`);
    polling = false;
    await poller;
    const memory = procMemory(adapter.proc.pid ?? 0);
    const result: MqttBenchResult = {
      messages: opts.messages,
      messagesPerSec: round((opts.messages / journaledMs) * 1000),
      journaledSeconds: round(journaledMs / 1000, 2),
      confirmedPerSec: round((opts.messages / confirmedMs) * 1000),
      confirmedSeconds: round(confirmedMs / 1000, 2),
      fsyncsPerMessage: round(progress.syncs / opts.messages, 3),
      publishers,
      window,
      connections,
      adapterPeakRssMiB: round(memory.peakRss / 2 ** 20, 1),
    };
    log(`mqtt: ${result.fsyncsPerMessage} fsyncs per message, adapter peak RSS ${result.adapterPeakRssMiB} MiB`);
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
    await adapter.stop();
    const sessions = connections === 1 ? [clientId] : Array.from({ length: connections }, (_, i) => `${clientId}-${i + 1}`);
    await Promise.all(sessions.map((id) => removeSession(brokerUrl, id).catch(() => undefined)));
  }
}

function parseOptions(argv: readonly string[]): { messages: number; publishers: number; window: number; connections: number[] } {
  let messages = DEFAULT_MESSAGES;
  let publishers = 4;
  let window = 500;
  let connections = [1, 4];
  const int = (flag: string, v: string | undefined): number => positiveInt(flag, v, USAGE);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--messages') messages = int(flag, argv[++i]);
    else if (flag === '--quick') messages = QUICK_MESSAGES;
    else if (flag === '--publishers') publishers = int(flag, argv[++i]);
    else if (flag === '--window') window = int(flag, argv[++i]);
    else if (flag === '--connections') connections = (argv[++i] ?? '').split(',').map((v) => int(flag, v));
    else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  return { messages, publishers, window, connections };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const vhost = await createBenchVhost('mymonit_bench_mqtt');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-bench-mqtt-'));
  try {
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    out(`machine: ${os.cpus().length} cores, node ${process.version}; journal in ${tmp}`);
    const results: MqttBenchResult[] = [];
    for (const connections of opts.connections) {
      results.push(await benchMqtt({ ...opts, connections, amqpUrl: vhost.url, journalDir: path.join(tmp, `journal-${connections}`), log: out }));
    }
    out(JSON.stringify({ bench: 'mqtt', runs: results }));
  } finally {
    await vhost.delete().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
