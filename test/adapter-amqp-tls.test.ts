import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ROOT, spawnNode } from './support/processes';
import { AMQP_HOST, createTestVhost, queueDepth } from './support/services';
import type { TestVhost } from './support/services';

/**
 * An adapter talks amqps:// to a broker whose certificate a private CA signed, trusting that CA
 * with --amqp-ca. The broker here listens in plain AMQP, so a TLS terminator the test runs in front
 * of it (with certificates from scripts/gen-certs.sh, as the compose stack's RabbitMQ uses) stands
 * in for RabbitMQ's TLS listener: the handshake, the certificate check and the AMQP session on top
 * are the adapter's real ones.
 */

let vhost: TestVhost;
let tmp: string;
let terminator: tls.Server;
let tlsPort: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  vhost = await createTestVhost('adapter_tls');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-amqp-tls-'));
  execFileSync('bash', [path.join(ROOT, 'scripts', 'gen-certs.sh'), path.join(tmp, 'certs')], { stdio: 'pipe' });
  // A second, unrelated CA: trusting it must not make the broker's certificate acceptable.
  execFileSync('bash', [path.join(ROOT, 'scripts', 'gen-certs.sh'), path.join(tmp, 'other')], { stdio: 'pipe' });
  const dir = path.join(tmp, 'certs', 'rabbitmq');
  const [host, port] = AMQP_HOST.split(':');
  terminator = tls.createServer(
    { key: fs.readFileSync(path.join(dir, 'server-key.pem')), cert: fs.readFileSync(path.join(dir, 'server.pem')) },
    (client) => {
      const upstream = net.connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    },
  );
  terminator.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  tlsPort = (terminator.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (terminator ? terminator.close(() => resolve()) : resolve()));
  await vhost?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The terminator, by the address the certificate names (IP:127.0.0.1 among its names). */
const amqpsUrl = (): string => `amqps://guest:guest@127.0.0.1:${tlsPort}/${encodeURIComponent(vhost.name)}`;

async function publishOne(url: string, extra: string[], value: number): Promise<{ code: number | string; output: string }> {
  const spawned = spawnNode('adapters/cli.js', { LOG_LEVEL: 'warn' }, ['stdin', '--amqp-url', url, ...extra, '--experiment', 'device-vibrations', '--measure', 'hertz']);
  spawned.proc.stdin?.on('error', () => undefined);
  spawned.proc.stdin?.end(`${value}\n`);
  return { code: await spawned.exited, output: spawned.output() };
}

test('with --amqp-ca naming the CA that signed the broker certificate, measures are published over TLS', async () => {
  const before = await queueDepth(vhost.url);
  const run = await publishOne(amqpsUrl(), ['--amqp-ca', path.join(tmp, 'certs', 'ca.pem')], 12.5);
  expect(run).toMatchObject({ code: 0 });
  expect(await queueDepth(vhost.url)).toBe(before + 1);
});

test('without --amqp-ca the private CA is not trusted: the adapter refuses the broker and says why', async () => {
  const before = await queueDepth(vhost.url);
  const run = await publishOne(amqpsUrl(), [], 13.5);
  expect(run.code).not.toBe(0);
  expect(run.output).toMatch(/certificate/i);
  expect(await queueDepth(vhost.url)).toBe(before);
});

test('another CA does not make the certificate acceptable', async () => {
  const before = await queueDepth(vhost.url);
  const otherCa = await publishOne(amqpsUrl(), ['--amqp-ca', path.join(tmp, 'other', 'ca.pem')], 14.5);
  expect(otherCa.code).not.toBe(0);
  expect(otherCa.output).toMatch(/certificate/i);
  expect(await queueDepth(vhost.url)).toBe(before);
});

test('--amqp-ca with a plain amqp:// URL or a file without a certificate is a usage error', async () => {
  const plain = await publishOne(vhost.url, ['--amqp-ca', path.join(tmp, 'certs', 'ca.pem')], 16.5);
  expect(plain.code).not.toBe(0);
  expect(plain.output).toMatch(/--amqp-ca needs an amqps:\/\/ broker URL/);
  const notPem = path.join(tmp, 'not-a-cert.pem');
  fs.writeFileSync(notPem, 'hello\n');
  const bad = await publishOne(amqpsUrl(), ['--amqp-ca', notPem], 17.5);
  expect(bad.code).not.toBe(0);
  expect(bad.output).toMatch(/holds no PEM certificate/);
});
