import { bounds, fromLocalInput, isLive, rangeFromParams, rangeToParams, toLocalInput } from '../web/src/ranges';
import { parseRoute } from '../web/src/router';
import { AggregateSeries, lowerBound, pickInterval, RawSeries } from '../web/src/series';
import { lines, sseEvents } from '../web/src/sse';

/** The web page's pure parts: chart data columns, ranges, routes and the stream parsers. */

function stream(...chunks: string[]): ReadableStream<Uint8Array> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream({
    pull(controller) {
      const next = bytes.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('RawSeries', () => {
  it('keeps one x column in order with a value column per source, undefined where a source has no point', () => {
    const s = new RawSeries();
    s.add(10, 'a', 1);
    s.add(20, 'b', 2);
    s.add(15, 'a', 3); // late, out of order
    s.add(20, 'a', 4);
    s.add(20, 'a', 5); // same time and source: replaced, not added
    expect(s.xs).toEqual([10, 15, 20]);
    expect(s.sources).toEqual(['a', 'b']);
    expect(s.ys).toEqual([
      [1, 3, 5],
      [undefined, undefined, 2],
    ]);
    expect(s.count).toBe(4);
    expect(s.perSource).toEqual([3, 1]);
  });

  it('drops points before a time and keeps its counts right', () => {
    const s = new RawSeries();
    for (let i = 0; i < 10; i++) s.add(i, i % 2 === 0 ? 'even' : 'odd', i);
    s.trimBefore(6);
    expect(s.xs).toEqual([6, 7, 8, 9]);
    expect(s.count).toBe(4);
    expect(s.perSource).toEqual([2, 2]);
  });
});

describe('AggregateSeries', () => {
  it('folds live points into their epoch-aligned bucket', () => {
    const s = new AggregateSeries({ label: '1m', seconds: 60 });
    s.addBucket(120, 10, 5, 15, 2);
    s.addPoint(150, 40);
    s.addPoint(200, 1);
    expect(s.xs).toEqual([120, 180]);
    expect(s.avg).toEqual([20, 1]);
    expect(s.min).toEqual([5, 1]);
    expect(s.max).toEqual([40, 1]);
    expect(s.counts).toEqual([3, 1]);
    expect(s.count).toBe(4);
  });
});

test('lowerBound and pickInterval', () => {
  expect(lowerBound([1, 3, 3, 5], 3)).toBe(1);
  expect(lowerBound([1, 3, 5], 6)).toBe(3);
  expect(pickInterval(3_600_000, 1000).label).toBe('5s');
  expect(pickInterval(86_400_000, 1000).label).toBe('5m');
  expect(pickInterval(7 * 86_400_000, 1000).label).toBe('30m');
  expect(pickInterval(3650 * 86_400_000, 1000).label).toBe('1d');
});

describe('ranges', () => {
  it('round-trips presets and custom ranges through the URL', () => {
    expect(rangeFromParams(new URLSearchParams('last=6h'))).toEqual({ kind: 'last', key: '6h', ms: 6 * 3_600_000 });
    const custom = { kind: 'between', from: Date.UTC(2022, 3, 6, 7), to: Date.UTC(2022, 3, 6, 8) } as const;
    expect(rangeFromParams(rangeToParams(custom))).toEqual(custom);
    expect(rangeFromParams(new URLSearchParams('from=2022-04-06T08:00:00Z&to=2022-04-06T07:00:00Z'))).toEqual(rangeFromParams(new URLSearchParams()));
  });

  it('ends a "last" range now and tells live ranges from past ones', () => {
    expect(bounds({ kind: 'last', key: '1h', ms: 3_600_000 }, 10_000_000)).toEqual({ from: 6_400_000, to: 10_000_000 });
    expect(isLive({ kind: 'between', from: 0, to: 5 }, 10)).toBe(false);
    expect(isLive({ kind: 'between', from: 0, to: 50 }, 10)).toBe(true);
  });

  it('reads back its own datetime-local values', () => {
    const ms = new Date(2026, 10, 22, 17, 5, 9).getTime();
    expect(toLocalInput(ms)).toBe('2026-11-22T17:05:09');
    expect(fromLocalInput(toLocalInput(ms))).toBe(ms);
    expect(fromLocalInput('')).toBeNaN();
  });
});

test('hash routes', () => {
  expect(parseRoute('')).toEqual({ name: 'home' });
  expect(parseRoute('#main')).toBeUndefined();
  expect(parseRoute('#/experiments')).toEqual({ name: 'experiments' });
  const r = parseRoute('#/experiments/12?last=1h');
  expect(r?.name === 'experiment' && r.id === 12 && r.params.get('last')).toBe('1h');
  expect(parseRoute('#/admin/audit')).toMatchObject({ name: 'admin', section: 'audit' });
  expect(parseRoute('#/admin/nope')).toEqual({ name: 'not-found', path: '/admin/nope' });
  expect(parseRoute('#/experiments/0')).toEqual({ name: 'not-found', path: '/experiments/0' });
});

describe('stream parsers', () => {
  it('splits lines across chunks, CRLF and multi-byte characters included', async () => {
    const euro = new TextEncoder().encode('€');
    const parts = [new TextEncoder().encode('a\r\nb'), euro.slice(0, 1), euro.slice(1), new TextEncoder().encode('\nlast')];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = parts.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    expect(await collect(lines(body))).toEqual(['a', 'b€', 'last']);
  });

  it('parses Server-Sent Events as the API sends them', async () => {
    const events = await collect(
      sseEvents(
        stream(
          'retry: 2000\nid: c0\n\n',
          'id: c1\ndata: {"measure_type":"hertz",',
          '"value":1}\n\n: heartbeat\n\n',
          'event: end\ndata: {"reason":"token_expired"}\n\n',
          'data: one\ndata: two\n\n',
        ),
      ),
    );
    expect(events).toEqual([
      { event: 'message', data: undefined, id: 'c0', retry: 2000 },
      { event: 'message', data: '{"measure_type":"hertz","value":1}', id: 'c1', retry: undefined },
      { event: 'message', data: undefined, id: 'c1', retry: undefined },
      { event: 'end', data: '{"reason":"token_expired"}', id: 'c1', retry: undefined },
      { event: 'message', data: 'one\ntwo', id: 'c1', retry: undefined },
    ]);
  });
});
