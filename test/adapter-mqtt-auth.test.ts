import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { MqttBridge } from '../adapters/mqtt/mqtt-bridge';
import type { BridgeOptions } from '../adapters/mqtt/mqtt-bridge';
import type { DurableSink } from '../adapters/sdk/durable-sink';
import type { Measure } from '../services/shared/measure-contract';
import { spawnNode } from './support/processes';
import { freePort, waitFor } from './support/services';

/**
 * The MQTT bridge's user name, password and TLS options against a private Mosquitto this file
 * starts on a free port: TLS with a CA made here, no anonymous access, one user.
 */

const USER = 'bridge';
const PASSWORD = 'pa55-word-for-the-bridge';

let dir: string;
let port: number;
let broker: ChildProcess | undefined;

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-mqtt-tls-'));
  // Mosquitto started as root drops to its own user, which must be able to read these files.
  fs.chmodSync(dir, 0o755);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mymonit test CA']);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf']);
  fs.writeFileSync(path.join(dir, 'passwords'), '');
  run('mosquitto_passwd', ['-b', path.join(dir, 'passwords'), USER, PASSWORD]);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${path.join(dir, 'ca.pem')}`,
      `certfile ${path.join(dir, 'server.pem')}`,
      `keyfile ${path.join(dir, 'server.key')}`,
      'allow_anonymous false',
      `password_file ${path.join(dir, 'passwords')}`,
      'persistence false',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  const proc = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  broker = proc;
  let log = '';
  proc.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    `the TLS broker\n${log}`,
    15_000,
  );
});

afterAll(async () => {
  if (broker && broker.exitCode === null) {
    const exited = new Promise((resolve) => broker?.once('exit', resolve));
    broker.kill('SIGTERM');
    await exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

class RecordingSink implements DurableSink {
  readonly measures: Measure[] = [];
  append(measures: readonly Measure[]): Promise<void> {
    this.measures.push(...measures);
    return Promise.resolve();
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function bridge(sink: DurableSink, extra: Partial<BridgeOptions>): MqttBridge {
  return new MqttBridge(
    {
      url: `mqtts://127.0.0.1:${port}`,
      clientId: 'tls-bridge',
      subscriptions: [{ topic: 'secure/mymonit/+/+/+', format: 'mymonit' }],
      sessionExpirySeconds: 60,
      reconnectPeriodMs: 100,
      ...extra,
    },
    sink,
    silent,
  );
}

describe('MQTT bridge with TLS and a password', () => {
  it('connects with the CA and credentials and bridges messages', async () => {
    const ca = fs.readFileSync(path.join(dir, 'ca.pem'));
    const sink = new RecordingSink();
    const b = bridge(sink, { username: USER, password: PASSWORD, tls: { ca, rejectUnauthorized: true } });
    await b.start();
    try {
      const pub = await connectAsync(`mqtts://127.0.0.1:${port}`, { ca, username: USER, password: PASSWORD, protocolVersion: 5 });
      await pub.publishAsync('secure/mymonit/e/s/hertz', '50', { qos: 1 });
      await pub.endAsync();
      await waitFor(() => b.stats.acknowledged === 1, 'the message');
      expect(sink.measures).toMatchObject([{ experiment: 'e', source: 's', measure: 'hertz', value: 50 }]);
    } finally {
      await b.stop();
    }
  });

  it('refuses to start with a wrong password or an unknown CA, saying why', async () => {
    const ca = fs.readFileSync(path.join(dir, 'ca.pem'));
    await expect(bridge(new RecordingSink(), { username: USER, password: 'wrong', tls: { ca, rejectUnauthorized: true } }).start()).rejects.toThrow(
      /^cannot connect to the MQTT broker: .*(Not authorized|Bad User Name or Password)/,
    );
    await expect(bridge(new RecordingSink(), { username: USER, password: PASSWORD }).start()).rejects.toThrow(
      /^cannot connect to the MQTT broker: .*(self[- ]signed|unable to (get|verify))/i,
    );
  });

  it('takes the password from --password-file in the adapter process, and never prints it', async () => {
    fs.writeFileSync(path.join(dir, 'bridge.pw'), `${PASSWORD}\n`);
    fs.writeFileSync(path.join(dir, 'wrong.pw'), 'not-the-password\n');
    const args = (pwFile: string): string[] => [
      'mqtt',
      '--url',
      `mqtts://127.0.0.1:${port}`,
      '--ca',
      path.join(dir, 'ca.pem'),
      '--username',
      USER,
      '--password-file',
      path.join(dir, pwFile),
      '--client-id',
      'tls-bridge-process',
      '--topic',
      'secure/mymonit/+/+/+',
      '--journal-dir',
      path.join(dir, `journal-${pwFile}`),
      // Nothing is forwarded in this test; the journal keeps what the bridge takes.
      '--amqp-url',
      'amqp://guest:guest@127.0.0.1:1',
    ];
    const wrong = spawnNode('adapters/cli.js', {}, args('wrong.pw'));
    expect(await wrong.exited).toBe(2);
    expect(wrong.output()).toMatch(/error: cannot connect to the MQTT broker: .*(Not authorized|Bad User Name or Password)/);

    const good = spawnNode('adapters/cli.js', {}, args('bridge.pw'));
    try {
      await waitFor(() => good.output().includes('"message":"bridging MQTT"'), 'the bridge to start').catch((err: Error) => {
        throw new Error(`${err.message}\n${good.output()}`);
      });
    } finally {
      good.proc.kill('SIGTERM');
    }
    expect(await good.exited).toBe(0);
    expect(good.output() + wrong.output()).not.toContain(PASSWORD);
  });
});
