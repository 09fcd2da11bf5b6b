import { basicAuth, postCommand } from './eagle-http';
import {
  EagleValueError,
  normalizeMac,
  parseDecimal,
  parseSignedHex,
  parseUnsignedHex,
  scale,
  unixHexToMicros,
  y2kHexToMicros,
} from './eagle-values';
import {
  childElement,
  childElements,
  childText,
  describeErrorDocument,
  EagleResponseError,
  escapeXml,
  parseEagleXml,
  requiredText,
} from './eagle-xml';
import type { XmlElement } from './eagle-xml';
import type { GatewayConfig, LegacyGateway, LocalGateway } from './gateway-config';

/**
 * Clients of the two Eagle APIs. Each poll returns the meters' readings in physical units (kW,
 * kWh) with the instant the meter reported them; quantities a device did not report are left out.
 */

export interface MeterReading {
  /** Canonical `0x` + 16 hex digits; a string, never a number. */
  readonly meterMac: string;
  /** Microseconds since the Unix epoch. */
  readonly timestampUs: number;
  readonly demandKw?: number;
  readonly summationDeliveredKwh?: number;
  readonly summationReceivedKwh?: number;
}

export interface PollResult {
  readonly readings: readonly MeterReading[];
  /** Parts that failed while the rest succeeded (e.g. a firmware without summation). */
  readonly problems: readonly string[];
}

export interface EagleClient {
  /** Reads every configured meter once; throws if nothing could be read. */
  poll(signal: AbortSignal, nowUs: number): Promise<PollResult>;
}

interface Transport {
  readonly timeoutMs: number;
}

function withValues<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof EagleValueError) throw new EagleResponseError(`${where}: ${err.message}`);
    throw err;
  }
}

function expectRoot(text: string, expected: readonly string[], command: string): XmlElement {
  const { root, element } = parseEagleXml(text);
  if (root === 'Error') throw new EagleResponseError(`${command}: the gateway answered <Error>: ${describeErrorDocument(element)}`);
  if (!expected.includes(root)) throw new EagleResponseError(`${command}: expected <${expected.join('> or <')}>, got <${root}>`);
  return element;
}

// ---------------------------------------------------------------------------------------------
// Eagle-200 local API

const LOCAL_VARIABLES = {
  demandKw: 'zigbee:InstantaneousDemand',
  summationDeliveredKwh: 'zigbee:CurrentSummationDelivered',
  summationReceivedKwh: 'zigbee:CurrentSummationReceived',
} as const;

export function localCommand(name: string, hardwareAddress?: string): string {
  const details = hardwareAddress ? `\n  <DeviceDetails>\n    <HardwareAddress>${escapeXml(hardwareAddress)}</HardwareAddress>\n  </DeviceDetails>` : '';
  const components =
    name === 'device_query'
      ? `\n  <Components>\n    <Component>\n      <Name>Main</Name>\n      <Variables>${Object.values(LOCAL_VARIABLES)
          .map((v) => `\n        <Variable><Name>${v}</Name></Variable>`)
          .join('')}\n      </Variables>\n    </Component>\n  </Components>`
      : '';
  return `<Command>\n  <Name>${name}</Name>${details}${components}\n</Command>\n`;
}

/** The reading of the meter in a device_query answer. */
export function parseDeviceQuery(text: string, nowUs: number): MeterReading {
  const device = expectRoot(text, ['Device'], 'device_query');
  const details = childElement(device, 'DeviceDetails');
  if (!details) throw new EagleResponseError('device_query: missing <DeviceDetails>');
  return withValues('device_query', () => {
    const meterMac = normalizeMac('HardwareAddress', requiredText(details, 'HardwareAddress', 'device_query'));
    const lastContact = childText(details, 'LastContact');
    const contactUs = lastContact ? unixHexToMicros('LastContact', lastContact) : 0;
    const values = new Map<string, string>();
    for (const component of childElements(childElement(device, 'Components') ?? {}, 'Component')) {
      for (const variable of childElements(childElement(component, 'Variables') ?? {}, 'Variable')) {
        const name = childText(variable, 'Name');
        if (name !== undefined) values.set(name, childText(variable, 'Value') ?? '');
      }
    }
    const reading: { -readonly [K in keyof MeterReading]: MeterReading[K] } = {
      meterMac,
      // LastContact is when the gateway last heard the meter, i.e. when these values were read;
      // an unknown (0) contact time falls back to the poll time.
      timestampUs: contactUs > 0 ? contactUs : nowUs,
    };
    for (const [field, variable] of Object.entries(LOCAL_VARIABLES) as Array<[keyof typeof LOCAL_VARIABLES, string]>) {
      const text = values.get(variable);
      const value = text === undefined ? undefined : parseDecimal(variable, text);
      if (value !== undefined) reading[field] = value;
    }
    return reading;
  });
}

/** Hardware addresses of the electric meters in a device_list answer. */
export function parseDeviceList(text: string): string[] {
  const list = expectRoot(text, ['DeviceList'], 'device_list');
  return withValues('device_list', () =>
    childElements(list, 'Device')
      .filter((d) => (childText(d, 'ModelId') ?? '').toLowerCase() === 'electric_meter')
      .map((d) => normalizeMac('HardwareAddress', requiredText(d, 'HardwareAddress', 'device_list'))),
  );
}

export class LocalEagleClient implements EagleClient {
  /** Discovered once, and again after a failed query (a meter may have been replaced). */
  private meters: readonly string[] | undefined;

  constructor(
    private readonly gateway: LocalGateway,
    private readonly transport: Transport,
  ) {
    if (gateway.meterMacId) this.meters = [gateway.meterMacId];
  }

  private send(body: string, signal: AbortSignal): Promise<string> {
    return postCommand({
      url: this.gateway.endpoint,
      body,
      headers: { authorization: basicAuth(this.gateway.cloudId, this.gateway.installCode) },
      timeoutMs: this.transport.timeoutMs,
      signal,
    });
  }

  async poll(signal: AbortSignal, nowUs: number): Promise<PollResult> {
    let meters = this.meters;
    if (!meters) {
      meters = parseDeviceList(await this.send(localCommand('device_list'), signal));
      if (meters.length === 0) throw new EagleResponseError('device_list: the gateway reports no electric meter');
      this.meters = meters;
    }
    const readings: MeterReading[] = [];
    const problems: string[] = [];
    for (const mac of meters) {
      try {
        readings.push(parseDeviceQuery(await this.send(localCommand('device_query', mac), signal), nowUs));
      } catch (err) {
        if (!this.gateway.meterMacId) this.meters = undefined;
        if (meters.length === 1 || signal.aborted) throw err;
        problems.push(`meter ${mac}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (readings.length === 0) throw new EagleResponseError(`no meter could be read: ${problems.join('; ')}`);
    return { readings, problems };
  }
}

// ---------------------------------------------------------------------------------------------
// Legacy API (RFA-Z109 EAGLE, cloud relay or LAN)

export function legacyCommand(name: string, macId?: string): string {
  return `<Command>\n  <Name>${name}</Name>${macId ? `\n  <MacId>${escapeXml(macId)}</MacId>` : ''}\n</Command>\n`;
}

function meterOf(element: XmlElement, where: string): string {
  // MeterMacId names the meter; very old firmware only sends the gateway's DeviceMacId.
  const mac = childText(element, 'MeterMacId') || requiredText(element, 'DeviceMacId', where);
  return normalizeMac('MeterMacId', mac);
}

function factor(element: XmlElement, name: string): number {
  const text = childText(element, name);
  return text ? parseUnsignedHex(name, text) : 1;
}

export function parseInstantaneousDemand(text: string): MeterReading {
  const el = expectRoot(text, ['InstantaneousDemand'], 'get_instantaneous_demand');
  return withValues('InstantaneousDemand', () => ({
    meterMac: meterOf(el, 'InstantaneousDemand'),
    timestampUs: y2kHexToMicros('TimeStamp', requiredText(el, 'TimeStamp', 'InstantaneousDemand')),
    // Demand is signed: a negative value is power exported to the grid.
    demandKw: scale(
      parseSignedHex('Demand', requiredText(el, 'Demand', 'InstantaneousDemand')),
      factor(el, 'Multiplier'),
      factor(el, 'Divisor'),
    ),
  }));
}

export function parseCurrentSummation(text: string): MeterReading {
  const el = expectRoot(text, ['CurrentSummation', 'CurrentSummationDelivered'], 'get_current_summation');
  return withValues('CurrentSummation', () => {
    const multiplier = factor(el, 'Multiplier');
    const divisor = factor(el, 'Divisor');
    const delivered = childText(el, 'SummationDelivered');
    const received = childText(el, 'SummationReceived');
    if (!delivered && !received) throw new EagleResponseError('CurrentSummation: neither <SummationDelivered> nor <SummationReceived>');
    return {
      meterMac: meterOf(el, 'CurrentSummation'),
      timestampUs: y2kHexToMicros('TimeStamp', requiredText(el, 'TimeStamp', 'CurrentSummation')),
      ...(delivered ? { summationDeliveredKwh: scale(parseUnsignedHex('SummationDelivered', delivered), multiplier, divisor) } : {}),
      ...(received ? { summationReceivedKwh: scale(parseUnsignedHex('SummationReceived', received), multiplier, divisor) } : {}),
    };
  });
}

export class LegacyEagleClient implements EagleClient {
  constructor(
    private readonly gateway: LegacyGateway,
    private readonly transport: Transport,
  ) {}

  private headers(): Record<string, string> {
    const auth = this.gateway.auth;
    if (auth.kind === 'basic') return { authorization: basicAuth(this.gateway.cloudId, auth.installCode) };
    return { 'cloud-id': this.gateway.cloudId, user: auth.user, password: auth.password };
  }

  private send(command: string, signal: AbortSignal): Promise<string> {
    return postCommand({
      url: this.gateway.endpoint,
      body: legacyCommand(command, this.gateway.meterMacId),
      headers: this.headers(),
      timeoutMs: this.transport.timeoutMs,
      signal,
    });
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    const readings = [parseInstantaneousDemand(await this.send('get_instantaneous_demand', signal))];
    const problems: string[] = [];
    if (this.gateway.summation) {
      // Summation is a bonus: demand already read counts even when this part fails.
      try {
        readings.push(parseCurrentSummation(await this.send('get_current_summation', signal)));
      } catch (err) {
        if (signal.aborted) throw err;
        const message = err instanceof Error ? err.message : String(err);
        problems.push(message.startsWith('get_current_summation') ? message : `get_current_summation: ${message}`);
      }
    }
    return { readings, problems };
  }
}

export function clientFor(gateway: GatewayConfig, transport: Transport): EagleClient {
  return gateway.api === 'local' ? new LocalEagleClient(gateway, transport) : new LegacyEagleClient(gateway, transport);
}
