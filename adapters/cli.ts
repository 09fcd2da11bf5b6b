import { runCli } from './sdk/cli';
import type { RegisteredKind } from './sdk/cli';
import { influxAdapter } from './influx/influx-adapter';
import { mqttAdapter } from './mqtt/mqtt-adapter';
import { rainforestAdapter } from './rainforest/rainforest-adapter';
import { stdinAdapter } from './stdin/stdin-adapter';

/** Entry point: `node dist/adapters/cli.js <kind> [options]` (npm run adapter -- <kind> …). */

/** Every adapter kind; a new kind is one more entry. */
const KINDS: readonly RegisteredKind[] = [stdinAdapter, rainforestAdapter, influxAdapter, mqttAdapter];

const stop = new AbortController();
let signals = 0;
const onSignal = (): void => {
  // The first signal lets the adapter send what it has read; a second one gives up on that.
  if (++signals > 1) process.exit(130);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runCli('mymonit-adapter', process.argv.slice(2), KINDS, {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stop.signal,
}).then(
  // Exit explicitly: an interactive stdin left open would otherwise keep the process alive.
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exit(2);
  },
);
