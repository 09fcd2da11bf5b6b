import {
  legacyCommand,
  localCommand,
  parseCurrentSummation,
  parseDeviceList,
  parseDeviceQuery,
  parseInstantaneousDemand,
} from './eagle-clients';
import { EagleResponseError, parseEagleXml } from './eagle-xml';

const Y2K_US = Date.UTC(2000, 0, 1) * 1000;

const DEMAND = `<InstantaneousDemand>
  <DeviceMacId>0xd8d5b90000002aeb</DeviceMacId>
  <MeterMacId>0x000781000081fd17</MeterMacId>
  <TimeStamp>0x1c91ec39</TimeStamp>
  <Demand>0x0003b0</Demand>
  <Multiplier>0x00000001</Multiplier>
  <Divisor>0x000003e8</Divisor>
  <DigitsRight>0x03</DigitsRight>
  <DigitsLeft>0x06</DigitsLeft>
  <SuppressLeadingZero>Y</SuppressLeadingZero>
</InstantaneousDemand>`;

describe('legacy API documents', () => {
  it('decodes the README sample: 0.944 kW at 2015-03-10T17:54:01Z, MAC as a string', () => {
    expect(parseInstantaneousDemand(DEMAND)).toEqual({
      meterMac: '0x000781000081fd17',
      timestampUs: Date.UTC(2015, 2, 10, 17, 54, 1) * 1000,
      demandKw: 0.944,
    });
  });

  it('decodes a negative demand, a zero multiplier and divisor, and an XML declaration', () => {
    const doc = `<?xml version="1.0"?>\n${DEMAND.replace('0x0003b0', '0xfffc18').replace('0x00000001', '0x00000000').replace('0x000003e8', '0x00000000')}`;
    expect(parseInstantaneousDemand(doc).demandKw).toBe(-1000);
  });

  it('falls back to DeviceMacId and treats missing factors as 1', () => {
    const doc = '<InstantaneousDemand><DeviceMacId>0xD8D5B90000002AEB</DeviceMacId><TimeStamp>0x0000000a</TimeStamp><Demand>0x000005</Demand></InstantaneousDemand>';
    expect(parseInstantaneousDemand(doc)).toEqual({ meterMac: '0xd8d5b90000002aeb', timestampUs: Y2K_US + 10_000_000, demandKw: 5 });
  });

  it('decodes summation delivered and received in kWh', () => {
    const doc = `<CurrentSummation>
      <DeviceMacId>0xd8d5b90000002aeb</DeviceMacId><MeterMacId>0x000781000081fd17</MeterMacId>
      <TimeStamp>0x00000e10</TimeStamp>
      <SummationDelivered>0x057ad2e2</SummationDelivered><SummationReceived>0x000005dc</SummationReceived>
      <Multiplier>0x00000001</Multiplier><Divisor>0x000003e8</Divisor>
    </CurrentSummation>`;
    expect(parseCurrentSummation(doc)).toEqual({
      meterMac: '0x000781000081fd17',
      timestampUs: Y2K_US + 3600 * 1_000_000,
      summationDeliveredKwh: 91_935.458,
      summationReceivedKwh: 1.5,
    });
  });

  it('reports <Error>, another root, missing fields and malformed XML as response errors', () => {
    expect(() => parseInstantaneousDemand('<Error><Text>Unauthorized</Text></Error>')).toThrow(
      'get_instantaneous_demand: the gateway answered <Error>: Text: Unauthorized',
    );
    expect(() => parseInstantaneousDemand('<Error>Bad cloud id</Error>')).toThrow('<Error>: Bad cloud id');
    expect(() => parseInstantaneousDemand('<NetworkInfo><Status>x</Status></NetworkInfo>')).toThrow('expected <InstantaneousDemand>, got <NetworkInfo>');
    expect(() => parseInstantaneousDemand(DEMAND.replace(/<TimeStamp>.*<\/TimeStamp>/, ''))).toThrow('InstantaneousDemand: missing <TimeStamp>');
    expect(() => parseInstantaneousDemand(DEMAND.replace('0x0003b0', 'lots'))).toThrow('InstantaneousDemand: Demand: expected a hex number');
    expect(() => parseInstantaneousDemand(DEMAND.slice(0, 100))).toThrow(EagleResponseError);
    expect(() => parseInstantaneousDemand('')).toThrow(/malformed XML/);
    expect(() => parseInstantaneousDemand('<html>oops</html> trailing')).toThrow(EagleResponseError);
  });

  it('builds commands, with <MacId> when a meter is named', () => {
    expect(legacyCommand('get_instantaneous_demand')).toBe('<Command>\n  <Name>get_instantaneous_demand</Name>\n</Command>\n');
    const doc = parseEagleXml(legacyCommand('get_current_summation', '0x000781000081fd17'));
    expect(doc).toEqual({ root: 'Command', element: { Name: 'get_current_summation', MacId: '0x000781000081fd17' } });
  });
});

const QUERY = `<Device>
  <DeviceDetails>
    <Name>Power Meter</Name>
    <HardwareAddress>0x0007810000123456</HardwareAddress>
    <NetworkInterface>0xd8d5b90000001234</NetworkInterface>
    <ModelId>electric_meter</ModelId>
    <LastContact>0x5c5aff97</LastContact>
    <ConnectionStatus>Connected</ConnectionStatus>
  </DeviceDetails>
  <Components>
    <Component>
      <HardwareId></HardwareId>
      <FixedId>0</FixedId>
      <Name>Main</Name>
      <Variables>
        <Variable><Name>zigbee:InstantaneousDemand</Name><Value>-2.790000</Value><Units>kW</Units></Variable>
        <Variable><Name>zigbee:CurrentSummationDelivered</Name><Value>91937.250000</Value><Units>kWh</Units></Variable>
        <Variable><Name>zigbee:CurrentSummationReceived</Name><Value></Value><Units>kWh</Units></Variable>
        <Variable><Name>zigbee:RateLabel</Name><Value>Block 1</Value></Variable>
      </Variables>
    </Component>
  </Components>
</Device>`;

describe('EAGLE-200 local API documents', () => {
  it('decodes device_query: decimal values as sent, LastContact in Unix seconds, unknown values left out', () => {
    expect(parseDeviceQuery(QUERY, 1)).toEqual({
      meterMac: '0x0007810000123456',
      timestampUs: Date.UTC(2019, 1, 6, 15, 39, 3) * 1000,
      demandKw: -2.79,
      summationDeliveredKwh: 91_937.25,
    });
  });

  it('uses the poll time without a LastContact, and reads one variable as well as several', () => {
    const single = QUERY.replace(/<LastContact>.*<\/LastContact>/, '<LastContact>0x00000000</LastContact>').replace(
      /<Variable><Name>zigbee:CurrentSummationDelivered[\s\S]*<\/Variables>/,
      '</Variables>',
    );
    expect(parseDeviceQuery(single, 42)).toEqual({ meterMac: '0x0007810000123456', timestampUs: 42, demandKw: -2.79 });
  });

  it('lists the electric meters of device_list', () => {
    const list = `<DeviceList>
      <Device><HardwareAddress>0x0007810000123456</HardwareAddress><ModelId>electric_meter</ModelId></Device>
      <Device><HardwareAddress>0x00aa</HardwareAddress><ModelId>gas_meter</ModelId></Device>
      <Device><HardwareAddress>0x00078100001234AB</HardwareAddress><ModelId>electric_meter</ModelId></Device>
    </DeviceList>`;
    expect(parseDeviceList(list)).toEqual(['0x0007810000123456', '0x00078100001234ab']);
    expect(parseDeviceList('<DeviceList><Device><HardwareAddress>0x01</HardwareAddress><ModelId>electric_meter</ModelId></Device></DeviceList>')).toEqual([
      '0x0000000000000001',
    ]);
    expect(parseDeviceList('<DeviceList></DeviceList>')).toEqual([]);
  });

  it('builds device_query naming the meter and the variables it needs', () => {
    const { root, element } = parseEagleXml(localCommand('device_query', '0x0007810000123456'));
    expect(root).toBe('Command');
    expect(element).toMatchObject({ Name: 'device_query', DeviceDetails: { HardwareAddress: '0x0007810000123456' } });
    expect(JSON.stringify(element)).toContain('zigbee:CurrentSummationReceived');
  });
});
