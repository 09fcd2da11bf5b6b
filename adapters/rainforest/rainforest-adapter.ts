import { Counter } from 'prom-client';
import { redactString } from '../../services/shared/logger';
import { defineKind, EXIT, UsageError } from '../sdk/cli';
import type { AdapterContext, OptionValues } from '../sdk/cli';
import { clientFor } from './eagle-clients';
import { GatewayPoller } from './gateway-poller';
import { DEFAULT_MEASURES, DEFAULT_POLL_INTERVAL_MS, loadGatewayConfig } from './gateway-config';

const OPTIONS = {
  config: { type: 'string', short: 'c', valueName: 'FILE', description: 'the gateways file (JSON, see below; required)' },
} as const;

type RainforestValues = OptionValues<typeof OPTIONS>;

const DESCRIPTION = `
Polls Rainforest Automation EAGLE energy gateways and stores their meters' readings: demand (kW,
negative when exporting) and energy delivered and received (kWh). Each gateway is polled on its
own schedule (every ${DEFAULT_POLL_INTERVAL_MS / 1000} s by default, with jitter), with a timeout per request and a
capped backoff after failures, so a gateway that is down or hangs never delays the others.
Readings are journaled to disk (--journal-dir) and forwarded to RabbitMQ from there, so a broker
outage loses nothing. Runs until SIGINT or SIGTERM. Logs are JSON lines on stdout; install codes
and passwords are never logged.

The gateways file:
  {
    "pollIntervalMs": ${DEFAULT_POLL_INTERVAL_MS},        optional, default for every gateway
    "requestTimeoutMs": 4800,       optional, default min(5000, 80% of the shortest interval)
    "jitterRatio": 0.05,            optional, each poll moves by up to ±5% of the interval
    "maxBackoffMs": 300000,         optional, longest wait between attempts at a failing gateway
    "maxPendingMeasures": 50000,    optional, readings held in memory per gateway while the journal is full
    "gateways": [
      { "name": "house-12", "api": "local", "url": "http://192.168.1.50",
        "cloudId": "008123", "installCode": "0123456789abcdef",
        "experiment": "energy-houses" },
      { "name": "lab", "api": "legacy", "url": "https://relay.example.org:9445/cgi-bin/post_manager",
        "cloudId": "002738", "user": "ops@example.org", "password": "…",
        "experiment": "energy-lab", "source": "lab-meter", "summation": false }
    ]
  }

  api "local" is the EAGLE-200 local API (HTTP Basic auth with cloud id and install code); every
  electric meter from device_list is read, or only "meterMacId". api "legacy" is the older EAGLE's
  API: "user" and "password" for the cloud relay style, or "installCode" for HTTP Basic; "meterMacId"
  is sent as <MacId>. A URL without a path gets /cgi-bin/post_manager.
  "source" defaults to "{mac}", the meter's MAC id; "{mac}" and "{name}" (the gateway's name) are
  filled in. "measures" names the measure types (false leaves one out); the defaults:
${Object.entries(DEFAULT_MEASURES)
  .map(([quantity, name]) => `    ${quantity}: "${name}" (${quantity === 'demand' ? 'kW' : 'kWh'})`)
  .join('\n')}
  "pollIntervalMs" may also be set per gateway.`;

async function run(values: RainforestValues, ctx: AdapterContext): Promise<number> {
  if (values.config === undefined) throw new UsageError('--config FILE is required');
  const config = loadGatewayConfig(values.config);
  const saf = await ctx.startStoreAndForward();
  const log = saf.logger;
  const polls = new Counter({
    name: 'mymonit_adapter_rainforest_polls_total',
    help: 'Polls of each gateway by result (ok or failed)',
    labelNames: ['gateway', 'result'],
    registers: [saf.metrics.registry],
  });
  const pollers = config.gateways.map(
    (g) =>
      new GatewayPoller(g, clientFor(g, { timeoutMs: config.requestTimeoutMs }), saf.sink, log, {
        jitterRatio: config.jitterRatio,
        maxBackoffMs: config.maxBackoffMs,
        maxPendingMeasures: config.maxPendingMeasures,
        onPoll: (ok) => polls.inc({ gateway: g.name, result: ok ? 'ok' : 'failed' }),
      }),
  );
  log.info('polling gateways', {
    gateways: config.gateways.map((g) => ({ name: g.name, api: g.api, endpoint: redactString(g.endpoint), pollIntervalMs: g.pollIntervalMs })),
    requestTimeoutMs: config.requestTimeoutMs,
  });
  try {
    // Independent loops: nothing here awaits one gateway before polling another.
    await Promise.all(pollers.map((p) => p.run(ctx.signal)));
    log.info('polling stopped', {
      gateways: config.gateways.map((g, i) => ({ name: g.name, ...pollers[i].stats, heldMeasures: pollers[i].pendingMeasures })),
    });
  } finally {
    await saf.stop();
  }
  const lost = pollers.reduce((n, p) => n + p.stats.droppedMeasures + p.pendingMeasures, 0);
  return lost > 0 ? EXIT.failure : EXIT.ok;
}

export const rainforestAdapter = defineKind({
  name: 'rainforest',
  summary: 'polls Rainforest EAGLE energy gateways (EAGLE-200 local API and legacy API)',
  description: DESCRIPTION,
  options: OPTIONS,
  durable: true,
  run,
});
