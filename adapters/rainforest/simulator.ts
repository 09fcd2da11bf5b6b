import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Y2K_EPOCH_SECONDS } from './eagle-values';
import { childElement, childElements, childText, escapeXml, parseEagleXml } from './eagle-xml';
import type { XmlElement } from './eagle-xml';

/**
 * A Rainforest Eagle gateway simulator: `POST /cgi-bin/post_manager` answering the Eagle-200 local
 * API (HTTP Basic cloud id / install code; device_list, device_details, device_query with decimal,
 * already scaled values) and the legacy API (Cloud-ID/User/Password headers or Basic;
 * get_instantaneous_demand, get_current_summation, get_network_info; hex fields, signed demand,
 * TimeStamp from the 2000 epoch, XML or `<Format>JSON</Format>`), with faults to inject: slow or
 * never-ending answers, 401, HTTP errors, malformed XML, `<Error>` documents, connection resets.
 * Tests start it in-process; `node dist/adapters/rainforest/simulator.js --port 8089` runs one for
 * a demo, its demand drifting.
 */

export interface SimulatedMeter {
  /** EUI-64, `0x` + 16 hex digits. */
  readonly macId: string;
  /** Raw demand, signed (negative: export); sent as 24-bit two's complement. */
  readonly demandRaw: number;
  readonly summationDeliveredRaw: number;
  readonly summationReceivedRaw: number;
  readonly multiplier: number;
  readonly divisor: number;
  /** Unix seconds of the reading; undefined means "now" at each answer. */
  readonly timestamp?: number;
}

export type EagleFault =
  | { readonly kind: 'none' }
  /** Answers, but only after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Reads the request and never answers. */
  | { readonly kind: 'hang' }
  /** 401 whatever the credentials. */
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'http-error'; readonly status: number }
  /** 200 with a truncated XML document. */
  | { readonly kind: 'malformed' }
  /** 200 with an `<Error>` document. */
  | { readonly kind: 'error-document' }
  /** Destroys the connection without an answer. */
  | { readonly kind: 'reset' };

export interface EagleSimulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly cloudId?: string;
  readonly installCode?: string;
  /** Legacy cloud relay credentials (headers User and Password). */
  readonly user?: string;
  readonly password?: string;
  /** The gateway's own ZigBee MAC (DeviceMacId, NetworkInterface). */
  readonly deviceMacId?: string;
  readonly meters?: readonly SimulatedMeter[];
  /** Whether get_current_summation is answered (some legacy firmware does not). */
  readonly summation?: boolean;
  readonly fault?: EagleFault;
}

export interface SimulatedRequest {
  /** performance.now() of the request's arrival, for intervals between polls. */
  readonly atMs: number;
  /** The command's name, '?' when the body was not a command. */
  readonly command: string;
  /** The HTTP status answered; 'no answer' while none was sent (hang, reset, slow and abandoned). */
  readonly status: number | 'no answer';
}

export interface EagleSimulator {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly SimulatedRequest[];
  setFault(fault: EagleFault): void;
  setMeter(macId: string, patch: Partial<Omit<SimulatedMeter, 'macId'>>): void;
  setSummation(available: boolean): void;
  close(): Promise<void>;
}

export const DEFAULT_SIMULATOR_METER: SimulatedMeter = {
  macId: '0x000781000081fd17',
  demandRaw: 944,
  summationDeliveredRaw: 91_937_250,
  summationReceivedRaw: 1_500,
  multiplier: 1,
  divisor: 1000,
};

const hex = (n: number, digits: number): string => `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;
/** Two's complement in 24 bits, as the Eagle sends demand. */
const signed24 = (n: number): string => `0x${((n + 0x1000000) % 0x1000000).toString(16).padStart(6, '0')}`;
const scaled = (raw: number, m: SimulatedMeter): string =>
  ((raw * (m.multiplier || 1)) / (m.divisor || 1)).toFixed(6);

function element(name: string, fields: ReadonlyArray<readonly [string, string]>, indent = ''): string {
  return `${indent}<${name}>\n${fields.map(([k, v]) => `${indent}  <${k}>${escapeXml(v)}</${k}>\n`).join('')}${indent}</${name}>`;
}

const LOCAL_VARIABLES = ['zigbee:InstantaneousDemand', 'zigbee:CurrentSummationDelivered', 'zigbee:CurrentSummationReceived', 'zigbee:Multiplier', 'zigbee:Divisor'];

class Simulator {
  readonly requests: SimulatedRequest[] = [];
  private fault: EagleFault;
  private summation: boolean;
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly hung = new Set<http.ServerResponse>();

  constructor(private readonly opts: EagleSimulatorOptions) {
    this.fault = opts.fault ?? { kind: 'none' };
    this.summation = opts.summation ?? true;
    for (const m of opts.meters ?? [DEFAULT_SIMULATOR_METER]) this.meters.set(m.macId.toLowerCase(), m);
  }

  private get cloudId(): string {
    return this.opts.cloudId ?? '008123';
  }

  private get deviceMacId(): string {
    return this.opts.deviceMacId ?? '0xd8d5b90000002aeb';
  }

  setFault(fault: EagleFault): void {
    this.fault = fault;
    if (fault.kind !== 'hang') {
      for (const res of this.hung) res.destroy();
      this.hung.clear();
    }
  }

  setSummation(available: boolean): void {
    this.summation = available;
  }

  setMeter(macId: string, patch: Partial<Omit<SimulatedMeter, 'macId'>>): void {
    const key = macId.toLowerCase();
    const current = this.meters.get(key) ?? { ...DEFAULT_SIMULATOR_METER, macId };
    this.meters.set(key, { ...current, ...patch });
  }

  releaseHung(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const atMs = performance.now();
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 65_536) req.destroy();
    });
    req.on('end', () => {
      const command = this.commandOf(body);
      const record: { atMs: number; command: string; status: number | 'no answer' } = { atMs, command: command?.name ?? '?', status: 'no answer' };
      this.requests.push(record);
      const fault = this.fault;
      if (fault.kind === 'hang') {
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      const answer = (): void => {
        const [status, type, text] = this.answer(req, command, fault);
        record.status = status;
        res.writeHead(status, { 'content-type': type, ...(status === 401 ? { 'www-authenticate': 'Basic realm="EAGLE"' } : {}) }).end(text);
      };
      if (fault.kind === 'slow') {
        const timer = setTimeout(answer, fault.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else {
        answer();
      }
    });
  }

  private commandOf(body: string): { name: string; doc: XmlElement } | undefined {
    try {
      const { root, element: doc } = parseEagleXml(body);
      if (root !== 'Command' && root !== 'LocalCommand') return undefined;
      const name = childText(doc, 'Name');
      return name ? { name: name.trim(), doc } : undefined;
    } catch {
      return undefined;
    }
  }

  private authorized(req: http.IncomingMessage, local: boolean): boolean {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      return user === this.cloudId && rest.join(':') === (this.opts.installCode ?? '0123456789abcdef');
    }
    if (local) return false;
    return (
      req.headers['cloud-id'] === this.cloudId &&
      req.headers.user === (this.opts.user ?? 'user@example.org') &&
      req.headers.password === (this.opts.password ?? 'secret')
    );
  }

  private answer(req: http.IncomingMessage, command: { name: string; doc: XmlElement } | undefined, fault: EagleFault): [number, string, string] {
    const xml = (text: string): [number, string, string] => [200, 'text/xml', text];
    const error = (text: string): [number, string, string] => xml(`<Error>\n  <Text>${escapeXml(text)}</Text>\n</Error>`);
    if (fault.kind === 'unauthorized') return [401, 'text/plain', 'Unauthorized'];
    if (fault.kind === 'http-error') return [fault.status, 'text/plain', 'simulated failure'];
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/cgi-bin/post_manager') return [404, 'text/plain', 'Not Found'];
    if (!command) return error('Invalid command');
    const local = command.name.startsWith('device_') || command.name === 'wifi_status';
    if (!this.authorized(req, local)) return local ? [401, 'text/plain', 'Unauthorized'] : error('Unauthorized');
    if (fault.kind === 'error-document') return error('Simulated error');
    let text: string;
    try {
      text = local ? this.localAnswer(command.name, command.doc) : this.legacyAnswer(command.name, command.doc);
    } catch (err) {
      return error(err instanceof Error ? err.message : String(err));
    }
    if (fault.kind === 'malformed') return xml(text.slice(0, Math.floor(text.length / 2)));
    if (!local && (childText(command.doc, 'Format') ?? '').trim().toUpperCase() === 'JSON') {
      return [200, 'application/json', this.asJson(text)];
    }
    return xml(text);
  }

  private meter(mac: string | undefined): SimulatedMeter {
    if (mac === undefined || mac.trim() === '') {
      const first = this.meters.values().next();
      if (first.done) throw new Error('No meter');
      return first.value;
    }
    const found = this.meters.get(mac.trim().toLowerCase());
    if (!found) throw new Error(`Unknown device ${mac.trim()}`);
    return found;
  }

  private timestampOf(m: SimulatedMeter): number {
    return m.timestamp ?? Math.floor(Date.now() / 1000);
  }

  private legacyAnswer(name: string, doc: XmlElement): string {
    const m = this.meter(childText(doc, 'MacId') ?? childText(doc, 'DeviceMacId'));
    const y2k = hex(this.timestampOf(m) - Y2K_EPOCH_SECONDS, 8);
    const factors: Array<[string, string]> = [
      ['Multiplier', hex(m.multiplier, 8)],
      ['Divisor', hex(m.divisor, 8)],
      ['DigitsRight', '0x03'],
      ['DigitsLeft', '0x06'],
      ['SuppressLeadingZero', 'Y'],
    ];
    switch (name) {
      case 'get_instantaneous_demand':
        return element('InstantaneousDemand', [
          ['DeviceMacId', this.deviceMacId],
          ['MeterMacId', m.macId],
          ['TimeStamp', y2k],
          ['Demand', signed24(m.demandRaw)],
          ...factors,
        ]);
      case 'get_current_summation':
        if (!this.summation) throw new Error('Command not supported');
        return element('CurrentSummation', [
          ['DeviceMacId', this.deviceMacId],
          ['MeterMacId', m.macId],
          ['TimeStamp', y2k],
          ['SummationDelivered', hex(m.summationDeliveredRaw, 8)],
          ['SummationReceived', hex(m.summationReceivedRaw, 8)],
          ...factors,
        ]);
      case 'get_network_info':
        return element('NetworkInfo', [
          ['DeviceMacId', this.deviceMacId],
          ['InstallCode', '0x0000000000000000'],
          ['FWVersion', '1.4.48 (6952)'],
          ['ModelId', 'Z109-EAGLE'],
          ['Protocol', 'ZigBee'],
        ]);
      default:
        throw new Error(`Unknown command ${name}`);
    }
  }

  private deviceDetails(m: SimulatedMeter, indent: string): string {
    return element(
      'DeviceDetails',
      [
        ['Name', 'Power Meter'],
        ['HardwareAddress', m.macId],
        ['NetworkInterface', this.deviceMacId],
        ['Protocol', 'Zigbee'],
        ['NetworkAddress', '0x0000'],
        ['Manufacturer', 'Generic'],
        ['ModelId', 'electric_meter'],
        ['LastContact', hex(this.timestampOf(m), 8)],
        ['ConnectionStatus', 'Connected'],
      ],
      indent,
    );
  }

  private localAnswer(name: string, doc: XmlElement): string {
    if (name === 'device_list') {
      const devices = [...this.meters.values()].map((m) =>
        element(
          'Device',
          [
            ['HardwareAddress', m.macId],
            ['Manufacturer', 'Generic'],
            ['ModelId', 'electric_meter'],
            ['Protocol', 'Zigbee'],
            ['LastContact', hex(this.timestampOf(m), 8)],
            ['ConnectionStatus', 'Connected'],
            ['NetworkAddress', '0x0000'],
          ],
          '  ',
        ),
      );
      return `<DeviceList>\n${devices.join('\n')}\n</DeviceList>`;
    }
    if (name !== 'device_query' && name !== 'device_details') throw new Error(`Unknown command ${name}`);
    const m = this.meter(childText(childElement(doc, 'DeviceDetails') ?? {}, 'HardwareAddress'));
    const values: Record<string, string> = {
      'zigbee:InstantaneousDemand': scaled(m.demandRaw, m),
      'zigbee:CurrentSummationDelivered': scaled(m.summationDeliveredRaw, m),
      'zigbee:CurrentSummationReceived': scaled(m.summationReceivedRaw, m),
      'zigbee:Multiplier': String(m.multiplier),
      'zigbee:Divisor': String(m.divisor),
    };
    const components = childElement(doc, 'Components') ?? {};
    const requested = childElements(childElement(childElement(components, 'Component') ?? {}, 'Variables') ?? {}, 'Variable')
      .map((v) => childText(v, 'Name') ?? '')
      .filter((n) => n !== '');
    const names = name === 'device_details' || childText(components, 'All') === 'Y' || requested.length === 0 ? LOCAL_VARIABLES : requested;
    const variables = names.map((n) =>
      element('Variable', [['Name', n], ['Value', name === 'device_details' ? '' : (values[n] ?? '')], ['Units', n.includes('Summation') ? 'kWh' : n.includes('Demand') ? 'kW' : '']], '        '),
    );
    return [
      '<Device>',
      this.deviceDetails(m, '  '),
      '  <Components>',
      '    <Component>',
      '      <HardwareId></HardwareId>',
      '      <FixedId>0</FixedId>',
      '      <Name>Main</Name>',
      '      <Variables>',
      ...variables,
      '      </Variables>',
      '    </Component>',
      '  </Components>',
      '</Device>',
    ].join('\n');
  }

  /** The JSON form of a legacy fragment: the same fields as strings under the root's name. */
  private asJson(xmlText: string): string {
    const { root, element: el } = parseEagleXml(xmlText);
    return JSON.stringify({ [root]: el });
  }
}

export async function startEagleSimulator(opts: EagleSimulatorOptions = {}): Promise<EagleSimulator> {
  const sim = new Simulator(opts);
  const server = http.createServer((req, res) => sim.handle(req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    requests: sim.requests,
    setFault: (fault) => sim.setFault(fault),
    setMeter: (macId, patch) => sim.setMeter(macId, patch),
    setSummation: (available) => sim.setSummation(available),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        sim.releaseHung();
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '8089' },
      host: { type: 'string', default: '127.0.0.1' },
      'cloud-id': { type: 'string', default: '008123' },
      'install-code': { type: 'string', default: '0123456789abcdef' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: node dist/adapters/rainforest/simulator.js [--port 8089] [--host 127.0.0.1] [--cloud-id ID] [--install-code CODE]\n');
    return;
  }
  const sim = await startEagleSimulator({ port: Number(values.port), host: values.host, cloudId: values['cloud-id'], installCode: values['install-code'] });
  const meter = DEFAULT_SIMULATOR_METER;
  let delivered = meter.summationDeliveredRaw;
  const started = Date.now();
  // A household-like demand between about -1.5 and 2.5 kW, and the energy it adds up to.
  const drift = setInterval(() => {
    const t = (Date.now() - started) / 1000;
    const demandRaw = Math.round(500 + 2000 * Math.sin(t / 60) + 200 * Math.sin(t / 7));
    if (demandRaw > 0) delivered += Math.round(demandRaw / 3600);
    sim.setMeter(meter.macId, { demandRaw, summationDeliveredRaw: delivered, timestamp: Math.floor(Date.now() / 1000) });
  }, 1000);
  process.stdout.write(`Eagle simulator on ${sim.url}/cgi-bin/post_manager (cloud id ${values['cloud-id']}, meter ${meter.macId})\n`);
  const stop = (): void => {
    clearInterval(drift);
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
