import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { FakeElasticsearch } from './support/fake-elasticsearch';
import { ROOT } from './support/processes';
import { waitFor } from './support/services';

/**
 * Operational logs through winston-elasticsearch (services/shared/logger.ts), in a child process
 * built from dist/: the transport keeps retry timers of its own, which must not outlive a test.
 * While Elasticsearch is away the buffer stays bounded and every line beyond it is counted as
 * dropped; once it is back the transport sends what it kept, and flushLogger sends the rest before
 * the process exits, redacted like stdout.
 */

const LINES = 50;
const BUFFER_LIMIT = 5;

const CHILD = `
const { createLogger, flushLogger } = require(${JSON.stringify(path.join(ROOT, 'dist/services/shared/logger.js'))});
const { createMetrics } = require(${JSON.stringify(path.join(ROOT, 'dist/services/shared/metrics.js'))});
const readline = require('node:readline');
const metrics = createMetrics('log-test');
const logger = createLogger({
  service: 'log-test',
  level: 'info',
  // A long interval: after the first flush a line waits in the buffer until flushLogger sends it.
  elasticsearch: { url: process.env.ES_URL, bufferLimit: ${BUFFER_LIMIT}, flushIntervalMs: 600000, requestTimeoutMs: 2000, metrics },
});
logger.remove(logger.transports[0]); // no console output: stdout carries the protocol
const value = async (name) => (await metrics.registry.getSingleMetric(name).get()).values[0]?.value ?? 0;
(async () => {
  for (let seq = 0; seq < ${LINES}; seq++) {
    logger.info('line while Elasticsearch is down', { seq, password: 'hunter2', url: 'amqp://svc:hunter2@rabbit:5672' });
  }
  let state;
  for (let i = 0; i < 400; i++) {
    state = { dropped: await value('mymonit_log_lines_dropped_total'), buffered: await value('mymonit_log_lines_buffered') };
    if (state.dropped + state.buffered === ${LINES}) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write('STATE ' + JSON.stringify(state) + '\\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('close', () => process.exit(3)); // the test is gone: do not linger
  // Elasticsearch is back: the transport notices on its own and sends what it kept; the test
  // says 'go' once it has all of it.
  await new Promise((resolve) => rl.once('line', resolve));
  logger.info('last line before exit', { seq: 'last' });
  await flushLogger(logger, 15000);
  process.stdout.write('FLUSHED\\n');
  process.exit(0);
})();
`;

/** Logs PARTIAL_LINES lines with Elasticsearch up, then waits for 'go' to flush and exit. */
const PARTIAL_LINES = 20;
const CHILD_UP = `
const { createLogger, flushLogger } = require(${JSON.stringify(path.join(ROOT, 'dist/services/shared/logger.js'))});
const { createMetrics } = require(${JSON.stringify(path.join(ROOT, 'dist/services/shared/metrics.js'))});
const readline = require('node:readline');
const metrics = createMetrics('log-test');
const logger = createLogger({ service: 'log-test', level: 'info', elasticsearch: { url: process.env.ES_URL, bufferLimit: 1000, flushIntervalMs: 200, requestTimeoutMs: 2000, metrics } });
logger.remove(logger.transports[0]);
for (let seq = 0; seq < ${PARTIAL_LINES}; seq++) logger.info('line', { seq });
const rl = readline.createInterface({ input: process.stdin });
rl.once('close', () => process.exit(3));
rl.once('line', async () => {
  await flushLogger(logger, 15000);
  const dropped = (await metrics.registry.getSingleMetric('mymonit_log_lines_dropped_total').get()).values[0]?.value ?? 0;
  process.stdout.write('DROPPED ' + dropped + '\\n');
  process.exit(0);
});
`;

describe('operational logs to Elasticsearch', () => {
  let es: FakeElasticsearch;
  let child: ChildProcessWithoutNullStreams | undefined;

  /** One of the scripts above in a child process, with Elasticsearch at es.url. */
  function startChild(script: string) {
    const proc = spawn(process.execPath, ['-e', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ES_URL: es.url }, stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    const output = { stdout: '', stderr: '' };
    proc.stdout.on('data', (b: Buffer) => (output.stdout += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (output.stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    return { proc, output, exited };
  }

  beforeEach(async () => {
    es = await new FakeElasticsearch().start();
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await es.stop();
  });

  it('sends again only the lines Elasticsearch pushed back, drops and counts a refused one, stores each once', async () => {
    // Line 5 is pushed back once (429); line 7 is refused for good (a mapping error).
    let pushedBack = false;
    es.itemFault = (item) => {
      if (item.doc.seq === 7) return { status: 400, type: 'document_parsing_exception', reason: 'failed to parse field [seq]' };
      if (item.doc.seq !== 5 || pushedBack) return undefined;
      pushedBack = true;
      return { status: 429, type: 'es_rejected_execution_exception', reason: 'queue full' };
    };
    const { proc, output, exited } = startChild(CHILD_UP);
    const seqs = (): number[] => es.docs('mymonit-logs-').map((d) => Number(d.source.seq));
    await waitFor(() => new Set(seqs()).size === PARTIAL_LINES - 1, `every other line stored (stderr: ${output.stderr})`);
    proc.stdin.write('go\n');
    expect(await exited).toBe(0);

    expect(es.malformedRequests).toBe(0);
    expect(seqs().sort((a, b) => a - b)).toEqual(Array.from({ length: PARTIAL_LINES }, (_, i) => i).filter((i) => i !== 7));
    const arrivalsOf = (seq: number): number => {
      const d = es.docs('mymonit-logs-').find((x) => x.source.seq === seq);
      return d ? (es.arrivals.get(`${d.index}/${d.id}`) ?? 0) : 0;
    };
    expect(arrivalsOf(5)).toBe(2); // pushed back, sent again
    expect(arrivalsOf(0)).toBe(1); // stored at once, never sent again
    // The refused line went once and was counted as dropped, not retried.
    expect([...es.arrivals.values()].reduce((n, a) => n + a, 0)).toBe(PARTIAL_LINES + 1);
    expect(output.stdout).toContain('DROPPED 1');
  });

  it('keeps a bounded buffer while Elasticsearch is away, counts the dropped lines and flushes the rest on shutdown', async () => {
    es.setDown(true);
    const { proc, output, exited } = startChild(CHILD);
    const lines = readline.createInterface({ input: proc.stdout });
    const next = async (): Promise<string> =>
      new Promise((resolve, reject) => {
        lines.once('line', resolve);
        // 'close' of stdout, not 'exit': the process may exit before its last line is read.
        lines.once('close', () => reject(new Error(`child ended early:\n${output.stderr}`)));
      });

    const stateLine = await next();
    const state = JSON.parse(stateLine.replace(/^STATE /, '')) as { dropped: number; buffered: number };
    expect(state.buffered).toBeLessThanOrEqual(BUFFER_LIMIT);
    expect(state.dropped + state.buffered).toBe(LINES);
    expect(state.dropped).toBeGreaterThanOrEqual(LINES - BUFFER_LIMIT);
    expect(es.docs('mymonit-logs-')).toHaveLength(0);

    es.setDown(false);
    await waitFor(() => new Set(es.docs('mymonit-logs-').map((d) => String(d.source.seq))).size === state.buffered, 'the kept lines delivered');
    proc.stdin.write('go\n');
    expect(await next()).toBe('FLUSHED');
    expect(await exited).toBe(0);

    const docs = es.docs('mymonit-logs-');
    const seqs = new Set(docs.map((d) => String(d.source.seq)));
    expect(seqs.size).toBe(state.buffered + 1);
    expect(docs).toHaveLength(state.buffered + 1); // no line stored twice
    expect(seqs.has('last')).toBe(true);
    for (const d of docs) {
      expect(d.index).toMatch(/^mymonit-logs-\d{4}\.\d{2}\.\d{2}$/);
      expect(d.source).toMatchObject({ 'service.name': 'log-test', 'log.level': 'info' });
      if (d.source.seq !== 'last') expect(d.source).toMatchObject({ password: '[REDACTED]', url: 'amqp://svc:***@rabbit:5672' });
      expect(typeof d.source['@timestamp']).toBe('string');
      expect(JSON.stringify(d.source)).not.toContain('hunter2');
    }
  });
});
