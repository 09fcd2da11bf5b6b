import { decodeMymonit, decodeThingsBoard } from './payloads';
import { decodeMessage, parseSubscriptions, SubscriptionConfigError, topicSubscriptions } from './subscriptions';
import { filterProblem, matchTopic } from './topics';

const RECEIVED_US = 1_700_000_000_123_456;
const buf = (s: string) => Buffer.from(s, 'utf8');

describe('MQTT topic filters', () => {
  it('matches + and # as MQTT does, and returns what + matched', () => {
    expect(matchTopic('mymonit/+/+/+', 'mymonit/exp/src/hertz')).toEqual(['exp', 'src', 'hertz']);
    expect(matchTopic('mymonit/+/+/+', 'mymonit/exp/src')).toBeUndefined();
    expect(matchTopic('mymonit/+/+/+', 'mymonit/exp/src/hertz/x')).toBeUndefined();
    expect(matchTopic('mymonit/#', 'mymonit')).toEqual([]);
    expect(matchTopic('mymonit/#', 'mymonit/a/b')).toEqual([]);
    expect(matchTopic('+/b/#', 'a/b/c')).toEqual(['a']);
    expect(matchTopic('v1/devices/me/telemetry', 'v1/devices/me/telemetry')).toEqual([]);
    expect(matchTopic('#', '$SYS/broker/uptime')).toBeUndefined();
    expect(matchTopic('+/+', 'a//')).toBeUndefined();
    expect(matchTopic('+/+/+', 'a//')).toEqual(['a', '', '']);
  });

  it('validates filters', () => {
    expect(filterProblem('a/+/#')).toBeUndefined();
    expect(filterProblem('a/#/b')).toBe('"#" must be a whole level, and the last');
    expect(filterProblem('a/b#')).toBe('"#" must be a whole level, and the last');
    expect(filterProblem('a/b+/c')).toBe('"+" must be a whole level');
    expect(filterProblem('')).toBe('must not be empty');
  });
});

describe('mymonit payloads', () => {
  it('takes a number, stamped with the receive time', () => {
    expect(decodeMymonit('mymonit/vib/sensor-1/hertz', buf(' 12.5\n'), RECEIVED_US)).toEqual({
      measures: [{ experiment: 'vib', source: 'sensor-1', measure: 'hertz', value: 12.5, timestampUs: RECEIVED_US }],
      problems: [],
      stamped: false,
    });
    expect(decodeMymonit('site/a/mymonit/vib/s/hertz', buf('-3e2'), RECEIVED_US).measures[0]).toMatchObject({ experiment: 'vib', value: -300 });
  });

  it('takes JSON with its own timestamp in seconds, milliseconds or ISO-8601', () => {
    const t = (payload: unknown) => decodeMymonit('mymonit/e/s/watt', buf(JSON.stringify(payload)), RECEIVED_US);
    expect(t({ value: 1, timestamp: 1700000000 })).toMatchObject({ measures: [{ value: 1, timestampUs: 1_700_000_000_000_000 }], stamped: true });
    expect(t({ value: 2, timestamp: 1700000000123 }).measures[0].timestampUs).toBe(1_700_000_000_123_000);
    expect(t({ value: 3, timestamp: '2023-11-14T22:13:20.000001Z' }).measures[0].timestampUs).toBe(1_700_000_000_000_001);
    expect(t({ value: 4 })).toMatchObject({ measures: [{ value: 4, timestampUs: RECEIVED_US }], stamped: false });
  });

  it('says why a payload can never become a measure', () => {
    const problems = (topic: string, payload: string | Buffer) =>
      decodeMymonit(topic, typeof payload === 'string' ? buf(payload) : payload, RECEIVED_US).problems;
    expect(problems('mymonit/e/s/m', 'abc')).toEqual(['payload: neither a number nor JSON']);
    expect(problems('mymonit/e/s/m', '0x10')).toEqual(['payload: neither a number nor JSON']);
    expect(problems('mymonit/e/s/m', '')).toEqual(['payload: empty']);
    expect(problems('mymonit/e/s/m', '[1]')).toEqual(['payload: JSON must be an object {"value": …, "timestamp": …}']);
    expect(problems('mymonit/e/s/m', '{"value":"high"}')).toEqual(['value: must be a finite number']);
    expect(problems('mymonit/e/s/m', '{"value":1,"timestamp":"yesterday"}')).toEqual([
      'timestamp: must be epoch seconds, epoch milliseconds or an ISO-8601 date-time with an offset',
    ]);
    expect(problems('mymonit/e/s/m', '1e999')).toEqual(['value: must be a finite number']);
    expect(problems('e/m', '1')).toEqual(['topic: needs at least three levels …/<experiment>/<source>/<measure>']);
    expect(problems(`mymonit/e/${'s'.repeat(65)}/m`, '1')).toEqual(['source: must be at most 64 characters']);
    expect(problems('mymonit/e/s/m', Buffer.from([0xff, 0xfe, 0x31]))).toEqual(['payload: not UTF-8 text']);
  });
});

describe('ThingsBoard telemetry', () => {
  const tb = (payload: unknown) => decodeThingsBoard(buf(JSON.stringify(payload)), 'greenhouse', 'tb-1', RECEIVED_US);

  it('takes {key: value} at the receive time', () => {
    expect(tb({ temperature: 22.5, active: true, humidity: '40.5' })).toEqual({
      measures: [
        { experiment: 'greenhouse', source: 'tb-1', measure: 'temperature', value: 22.5, timestampUs: RECEIVED_US },
        { experiment: 'greenhouse', source: 'tb-1', measure: 'active', value: 1, timestampUs: RECEIVED_US },
        { experiment: 'greenhouse', source: 'tb-1', measure: 'humidity', value: 40.5, timestampUs: RECEIVED_US },
      ],
      problems: [],
      stamped: false,
    });
  });

  it('takes {ts, values} with ts in milliseconds, and arrays of either', () => {
    expect(tb([{ ts: 1451649600512, values: { temperature: 21, fan: false } }, { ts: 1451649601000, values: { temperature: 21.5 } }])).toEqual({
      measures: [
        { experiment: 'greenhouse', source: 'tb-1', measure: 'temperature', value: 21, timestampUs: 1_451_649_600_512_000 },
        { experiment: 'greenhouse', source: 'tb-1', measure: 'fan', value: 0, timestampUs: 1_451_649_600_512_000 },
        { experiment: 'greenhouse', source: 'tb-1', measure: 'temperature', value: 21.5, timestampUs: 1_451_649_601_000_000 },
      ],
      problems: [],
      stamped: true,
    });
    // A small ts is still milliseconds, not seconds.
    expect(tb({ ts: 5000, values: { x: 1 } }).measures[0].timestampUs).toBe(5_000_000);
  });

  it('keeps the good values and reports the others', () => {
    const d = tb([{ temperature: 20, label: 'warm', nested: { a: 1 } }, 7, { ts: 'now', values: { x: 1 } }, { ts: 1, values: 3 }]);
    expect(d.measures.map((m) => m.measure)).toEqual(['temperature']);
    expect(d.problems).toEqual([
      '[0] label: must be a number, boolean or numeric string',
      '[0] nested: must be a number, boolean or numeric string',
      '[1] must be an object of telemetry values',
      '[2] ts: must be epoch milliseconds',
      '[3] values: must be an object',
    ]);
    expect(decodeThingsBoard(buf('{oops'), 'e', '', RECEIVED_US).problems).toEqual(['payload: not JSON']);
    expect(tb([]).problems).toEqual(['payload: empty array']);
    expect(tb({}).problems).toEqual(['no values']);
  });
});

describe('subscriptions', () => {
  it('reads a file of mymonit and ThingsBoard subscriptions, with {n} templates', () => {
    const subs = parseSubscriptions(
      {
        subscriptions: [
          { topic: 'mymonit/+/+/+' },
          { topic: 'v1/devices/me/telemetry', format: 'thingsboard', experiment: 'greenhouse', source: 'tb-1' },
          { topic: 'farm/+/telemetry', format: 'thingsboard', experiment: 'farm' },
          { topic: 'site/+/+/tb', format: 'thingsboard', experiment: 'site-{1}', source: '{2}' },
        ],
      },
      'subs.json',
    );
    expect(subs[0]).toEqual({ topic: 'mymonit/+/+/+', format: 'mymonit' });
    expect(subs[2]).toEqual({ topic: 'farm/+/telemetry', format: 'thingsboard', experiment: 'farm', source: '' });
    expect(decodeMessage(subs, 'site/geneva/pump-7/tb', buf('{"rpm": 1200}'), RECEIVED_US)?.measures).toEqual([
      { experiment: 'site-geneva', source: 'pump-7', measure: 'rpm', value: 1200, timestampUs: RECEIVED_US },
    ]);
    expect(decodeMessage(subs, 'mymonit/e/s/hertz', buf('1'), RECEIVED_US)?.measures).toHaveLength(1);
    expect(decodeMessage(subs, 'elsewhere/x', buf('1'), RECEIVED_US)).toBeUndefined();
  });

  it('names what is wrong in a subscriptions file', () => {
    const problems = (doc: unknown): readonly string[] => {
      try {
        parseSubscriptions(doc, 'subs.json');
      } catch (err) {
        if (err instanceof SubscriptionConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ subscriptions: [{ topic: 'a/#/b' }, { topic: 'v1/t', format: 'thingsboard' }, { topic: 'x', format: 'influx' }] })).toEqual([
      'subscriptions[0].topic: "#" must be a whole level, and the last',
      'subscriptions[1].experiment: is required',
      'subscriptions[2].format: format must be "mymonit" or "thingsboard"',
    ]);
    expect(problems({ subscriptions: [{ topic: 'a/+', format: 'thingsboard', experiment: 'e-{2}' }] })).toEqual([
      'subscriptions[0].experiment: {2} names no "+" level of a/+ (it has 1)',
    ]);
    expect(problems({ subscriptions: [] })).toEqual(['subscriptions: must list at least one subscription']);
    expect(() => topicSubscriptions('mymonit/+/+/+, bad/#/x')).toThrow('--topic "bad/#/x": "#" must be a whole level, and the last');
    expect(topicSubscriptions('a/+/+/+,b/+/+/+')).toEqual([
      { topic: 'a/+/+/+', format: 'mymonit' },
      { topic: 'b/+/+/+', format: 'mymonit' },
    ]);
  });
});
