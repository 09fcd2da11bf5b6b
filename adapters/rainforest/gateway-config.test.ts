import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GatewayConfigError, loadGatewayConfig, parseGatewayConfig, sourceFor } from './gateway-config';

const local = { name: 'house-12', api: 'local', url: 'http://192.168.1.50', cloudId: '008123', installCode: 'f00dfeedf00dfeed', experiment: 'energy' };
const legacy = {
  name: 'lab',
  api: 'legacy',
  url: 'https://relay.example.org:9445/cgi-bin/post_manager',
  cloudId: '002738',
  user: 'ops@example.org',
  password: 'hunter2-secret',
  experiment: 'energy-lab',
};

function problems(doc: unknown): string[] {
  try {
    parseGatewayConfig(doc, 'gw.json');
  } catch (err) {
    if (err instanceof GatewayConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('gateways file', () => {
  it('fills in defaults: 6 s interval, post_manager path, MAC source, kW/kWh measure names', () => {
    const c = parseGatewayConfig({ gateways: [local, legacy] }, 'gw.json');
    expect(c.requestTimeoutMs).toBe(4800);
    expect(c.jitterRatio).toBe(0.05);
    expect(c.gateways[0]).toEqual({
      api: 'local',
      name: 'house-12',
      endpoint: 'http://192.168.1.50/cgi-bin/post_manager',
      experiment: 'energy',
      source: '{mac}',
      measures: { demand: 'kilowatt', summationDelivered: 'kilowatt-hour-delivered', summationReceived: 'kilowatt-hour-received' },
      pollIntervalMs: 6000,
      cloudId: '008123',
      meterMacId: undefined,
      installCode: 'f00dfeedf00dfeed',
    });
    expect(c.gateways[1]).toMatchObject({
      endpoint: 'https://relay.example.org:9445/cgi-bin/post_manager',
      auth: { kind: 'headers', user: 'ops@example.org', password: 'hunter2-secret' },
      summation: true,
    });
  });

  it('takes per-gateway intervals, measure names, a source template and Basic auth for legacy', () => {
    const c = parseGatewayConfig(
      {
        pollIntervalMs: 1000,
        gateways: [
          { ...local, pollIntervalMs: 600, source: '{name}:{mac}', measures: { demand: 'watt-ish', summationReceived: false }, meterMacId: '0x0007810000123456' },
          { ...legacy, user: undefined, password: undefined, installCode: 'abc', summation: false },
        ],
      },
      'gw.json',
    );
    expect(c.requestTimeoutMs).toBe(480);
    expect(c.gateways[0]).toMatchObject({
      pollIntervalMs: 600,
      measures: { demand: 'watt-ish', summationDelivered: 'kilowatt-hour-delivered', summationReceived: undefined },
    });
    expect(sourceFor(c.gateways[0], '0x0007810000123456')).toBe('house-12:0x0007810000123456');
    expect(c.gateways[1]).toMatchObject({ pollIntervalMs: 1000, auth: { kind: 'basic', installCode: 'abc' }, summation: false });
  });

  it('names each problem by its place, never by the secret value', () => {
    const found = problems({
      gateways: [
        { ...local, installCode: undefined },
        { ...legacy, password: undefined },
        { ...legacy, name: 'lab', installCode: 'x' },
        { ...local, name: 'bad', api: 'cloud' },
        { ...local, name: 'url', url: 'http://u:p@host' },
        { ...local, name: 'extra', instalCode: 'typo' },
      ],
    });
    expect(found).toEqual([
      'gateways[0] ("house-12").installCode: is required',
      'gateways[1] ("lab").password: is required with user or password',
      'gateways[2] ("lab").installCode: give either user and password (cloud relay) or installCode (LAN), not both',
      'gateways[3] ("bad").api: api must be "local" or "legacy"',
      'gateways[4] ("url").url: must be an http(s) URL without user or password (put credentials in their own fields)',
      'gateways[5] ("extra"): Unrecognized key: "instalCode"',
    ]);
    expect(found.join('\n')).not.toMatch(/hunter2|f00dfeed|typo/);
  });

  it('refuses duplicate names, no gateways, and a timeout not shorter than the interval', () => {
    expect(problems({ gateways: [local, local] })).toEqual(['gateways[1].name: "house-12" is used twice']);
    expect(problems({ gateways: [] })).toEqual(['gateways: must list at least one gateway']);
    expect(problems({ requestTimeoutMs: 600, gateways: [{ ...local, pollIntervalMs: 600 }] })).toEqual([
      'requestTimeoutMs: must be shorter than the shortest poll interval (600 ms), or a hung gateway would miss its turns',
    ]);
    expect(problems([])).toEqual(['file: Invalid input: expected object, received array']);
  });

  it('reports an unreadable file and bad JSON by position, without quoting the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-gw-'));
    try {
      const file = path.join(dir, 'gw.json');
      fs.writeFileSync(file, '{\n  "gateways": [{"installCode": "s3cr3t" x}]\n}');
      expect(() => loadGatewayConfig(file)).toThrow(/invalid gateways file .*gw\.json:\n {2}not valid JSON \(line 2, column \d+\)$/);
      expect(() => loadGatewayConfig(path.join(dir, 'missing.json'))).toThrow('cannot read it: ENOENT');
      fs.writeFileSync(file, JSON.stringify({ gateways: [local] }));
      expect(loadGatewayConfig(file).gateways).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
