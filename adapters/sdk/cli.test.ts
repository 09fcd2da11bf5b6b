import { PassThrough } from 'node:stream';
import { defineKind, EXIT, runCli, UsageError } from './cli';
import type { AdapterContext, CliIo, OptionValues } from './cli';

const OPTIONS = {
  name: { type: 'string', short: 'n', valueName: 'NAME', description: 'who to greet' },
  loud: { type: 'boolean', description: 'shout' },
} as const;

function fakeKind(seen: Array<OptionValues<typeof OPTIONS>>, ctxs: AdapterContext[] = []) {
  return defineKind({
    name: 'fake',
    summary: 'a kind for tests',
    description: 'Does nothing useful.',
    options: OPTIONS,
    run: (values, ctx) => {
      seen.push(values);
      ctxs.push(ctx);
      if (values.name === 'bad') throw new UsageError('bad name');
      if (values.name === 'boom') throw new Error('cannot reach amqp://u:secret@host');
      return Promise.resolve(values.loud ? EXIT.rejectedInput : EXIT.ok);
    },
  });
}

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { stdin: new PassThrough(), stdout, stderr, env, signal: new AbortController().signal, out: () => out, err: () => err };
}

describe('runCli', () => {
  it('lists the kinds for --help and exits 0', async () => {
    const t = io();
    expect(await runCli('prog', ['--help'], [fakeKind([])], t)).toBe(EXIT.ok);
    expect(t.out()).toContain('Usage: prog <kind> [options]');
    expect(t.out()).toMatch(/fake\s+a kind for tests/);
  });

  it('prints the help of a kind with its own and the common options', async () => {
    const t = io();
    expect(await runCli('prog', ['fake', '--loud', '-h'], [fakeKind([])], t)).toBe(EXIT.ok);
    expect(t.out()).toContain('Usage: prog fake [options]');
    expect(t.out()).toMatch(/-n, --name NAME\s+who to greet/);
    expect(t.out()).toMatch(/--amqp-url URL/);
  });

  it('exits 2 without a kind, with an unknown kind, or an unknown option', async () => {
    const seen: Array<OptionValues<typeof OPTIONS>> = [];
    expect(await runCli('prog', [], [fakeKind(seen)], io())).toBe(EXIT.failure);
    const unknown = io();
    expect(await runCli('prog', ['nope'], [fakeKind(seen)], unknown)).toBe(EXIT.failure);
    expect(unknown.err()).toContain('unknown adapter kind "nope"; kinds: fake');
    const badOption = io();
    expect(await runCli('prog', ['fake', '--colour', 'red'], [fakeKind(seen)], badOption)).toBe(EXIT.failure);
    expect(badOption.err()).toMatch(/--colour/);
    expect(badOption.err()).toContain('Run "prog fake --help" for usage.');
    expect(seen).toHaveLength(0);
  });

  it('passes typed values to the kind and returns its exit code', async () => {
    const seen: Array<OptionValues<typeof OPTIONS>> = [];
    expect(await runCli('prog', ['fake', '-n', 'ada', '--loud'], [fakeKind(seen)], io())).toBe(EXIT.rejectedInput);
    expect(seen).toEqual([{ name: 'ada', loud: true }]);
  });

  it('maps a UsageError and other errors to exit 2, with credentials redacted', async () => {
    const usage = io();
    expect(await runCli('prog', ['fake', '-n', 'bad'], [fakeKind([])], usage)).toBe(EXIT.failure);
    expect(usage.err()).toContain('error: bad name\nRun "prog fake --help" for usage.');
    const failed = io();
    expect(await runCli('prog', ['fake', '-n', 'boom'], [fakeKind([])], failed)).toBe(EXIT.failure);
    expect(failed.err()).toContain('error: cannot reach amqp://u:***@host');
    expect(failed.err()).not.toContain('secret');
  });

  it('refuses an AMQP URL that is not amqp(s) before running the kind', async () => {
    const seen: Array<OptionValues<typeof OPTIONS>> = [];
    const t = io();
    expect(await runCli('prog', ['fake', '--amqp-url', 'http://x'], [fakeKind(seen)], t)).toBe(EXIT.failure);
    expect(t.err()).toContain('AMQP_URL: must be a URL with scheme amqp: or amqps:');
    const fromEnv = io({ AMQP_URL: 'mysql://x' });
    expect(await runCli('prog', ['fake'], [fakeKind(seen)], fromEnv)).toBe(EXIT.failure);
    expect(seen).toHaveLength(0);
  });

  it('refuses a kind that redefines a common option', () => {
    expect(() =>
      defineKind({ name: 'x', summary: '', description: '', options: { help: { type: 'boolean', description: '' } }, run: () => Promise.resolve(0) }),
    ).toThrow('option --help is reserved');
  });
});
