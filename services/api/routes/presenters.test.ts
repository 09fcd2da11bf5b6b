import { microsToIso } from '../../shared/measure-contract';
import { aggregateJson, associationsJson, auditJson, measureJsonText, measuresJson, secondsToIso, experimentJson, measureJson, measureTypeJson, nextLink, rejectionJson, sqlToIso, userJson } from './presenters';
import {
  aggregateResponse,
  associationsResponse,
  auditResponse,
  experimentResponse,
  measureResponse,
  measureTypeResponse,
  rejectionResponse,
  userResponse,
} from './responses';

describe('sqlToIso', () => {
  it('renders DATETIME text as ISO-8601 UTC with microseconds', () => {
    expect(sqlToIso('2022-04-06 07:00:00.000000')).toBe('2022-04-06T07:00:00.000000Z');
    expect(sqlToIso('2022-04-06 07:00:00.123456')).toBe('2022-04-06T07:00:00.123456Z');
    expect(sqlToIso('2022-04-06 07:00:00')).toBe('2022-04-06T07:00:00.000000Z');
    expect(sqlToIso('2022-04-06 07:00:00.5')).toBe('2022-04-06T07:00:00.500000Z');
  });
});

describe('nextLink', () => {
  it('keeps the query and replaces the cursor', () => {
    const link = nextLink({ path: '/measures/1', search: new URLSearchParams('measure=hertz&cursor=old&limit=5') }, 'NEW');
    expect(link).toEqual({ Link: '</measures/1?measure=hertz&cursor=NEW&limit=5>; rel="next"' });
  });
  it('escapes what it copies', () => {
    const link = nextLink({ path: '/measures/1', search: new URLSearchParams({ source: 'a b>;' }) }, 'c');
    expect(link.Link).toBe('</measures/1?source=a+b%3E%3B&cursor=c>; rel="next"');
  });
});

describe('measureJsonText', () => {
  const m = (source: string, value: number, names = { experimentName: 'e', measureTypeName: 'hertz' }) => ({
    ts: '2022-04-06 07:00:00.000001',
    measureTypeId: 1,
    ...names,
    source,
    value,
  });
  it.each([
    ['plain', 1.5],
    ['quote " and \\ backslash', -0],
    ['new\nline\ttab\u0001', 1e21],
    ['ünïcødé \u2028 \ud83d\ude00', 5e-324],
    ['', -123456.789012],
    ['', 946791.3457310129],
  ])('is exactly JSON.stringify(measureJson(m)) for source %j, value %d', (source, value) => {
    const row = m(source, value, { experimentName: 'exp "x"', measureTypeName: 'watt' });
    expect(measureJsonText(row)).toBe(JSON.stringify(measureJson(row)));
  });
  it('writes arrays of them', () => {
    const rows = [m('a', 1), m('b', 2), { ...m('a', 3), measureTypeName: 'watt', measureTypeId: 2 }, { ...m('b', 4), experimentName: 'other' }, m('a', 5)];
    expect(measuresJson(rows).toString('utf8')).toBe(JSON.stringify(rows.map(measureJson)));
    expect(measuresJson([]).toString('utf8')).toBe('[]');
  });
  it('writes the bytes of that text for every name, the longest numbers and any timestamp text', () => {
    const names = { experimentName: 'expérience "ü" \u2028', measureTypeName: 'wätt 😀' };
    const rows = [
      m('ünïcødé \ud83d\ude00', -0.0000012345678901234567, names),
      m('quote " and \\ backslash', -1.7976931348623157e308, names),
      { ...m('', -2.2250738585072014e-308, names), ts: '2022-04-06 07:00:00' },
      { ...m('new\nline', 5e-324, names), ts: '2022-04-06 07:00:00.5' },
      { ...m('a', -123456789012345680000), ts: '2022-04-06 07:00:00.999999' },
    ];
    const bytes = measuresJson(rows);
    expect(bytes.toString('utf8')).toBe(JSON.stringify(rows.map(measureJson)));
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify(rows.map(measureJson))));
  });
});

describe('secondsToIso', () => {
  it('writes whole seconds as measure timestamps are written', () => {
    expect(secondsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(secondsToIso(1649228400)).toBe('2022-04-06T07:00:00.000000Z');
    expect(secondsToIso(8_000_000_000)).toBe(microsToIso(8_000_000_000 * 1_000_000));
    for (let s = 1_700_000_000 - 86_400; s < 1_700_000_000 + 86_400; s += 61) expect(secondsToIso(s)).toBe(microsToIso(s * 1_000_000));
  });
});

describe('aggregateJson', () => {
  it('renders the bucket start as ISO-8601 UTC and keeps only the functions asked for', () => {
    expect(aggregateJson({ bucketStartSeconds: 1649228400, measureTypeName: 'watt', max: 3 })).toEqual({
      bucket: '2022-04-06T07:00:00.000000Z',
      measure_type: 'watt',
      max: 3,
    });
  });
});

describe('associationsJson', () => {
  it('groups users by experiment id, as the original did, with the name added', () => {
    const user = (id: string) => ({ id, name: id, username: `u${id}`, email: `${id}@x`, role: 'SCIENTIST' as const, deletedAt: null });
    expect(
      associationsJson([
        { experimentId: 1, experimentName: 'a', user: user('S1') },
        { experimentId: 1, experimentName: 'a', user: user('S2') },
        { experimentId: 2, experimentName: 'b', user: user('S1') },
      ]),
    ).toEqual({
      1: { name: 'a', users: [expect.objectContaining({ user_id: 'S1' }), expect.objectContaining({ user_id: 'S2' })] },
      2: { name: 'b', users: [expect.objectContaining({ user_id: 'S1' })] },
    });
  });
});

describe('presenters produce exactly the documented response shapes', () => {
  const user = { id: 'S1', name: null, username: null, email: null, role: 'SCIENTIST' as const, deletedAt: '2024-01-01 00:00:00.000000' };
  it.each([
    ['user', userResponse, userJson(user)],
    ['experiment', experimentResponse, experimentJson({ id: 1, name: 'e' })],
    ['associations', associationsResponse, associationsJson([{ experimentId: 1, experimentName: 'e', user }])],
    [
      'measure',
      measureResponse,
      measureJson({ ts: '2022-04-06 07:00:00.000000', measureTypeId: 1, measureTypeName: 'hertz', experimentName: 'e', source: '', value: 1 }),
    ],
    ['aggregate', aggregateResponse, aggregateJson({ bucketStartSeconds: 1649228400, measureTypeName: 'hertz', avg: 1.5, min: 1, max: 2, count: 2 })],
    ['aggregate, count only', aggregateResponse, aggregateJson({ bucketStartSeconds: 0, measureTypeName: 'hertz', count: 2 })],
    ['measure type', measureTypeResponse, measureTypeJson({ id: 1, name: 'hertz', symbol: 'Hz', quantity: 'frequency' })],
    [
      'rejection',
      rejectionResponse,
      rejectionJson({ id: '1', receivedAt: '2022-04-06 07:00:00.000000', reason: 'invalid_json', detail: 'd', messageId: null, raw: 'x', rawLength: 1 }),
    ],
    [
      'audit event',
      auditResponse,
      auditJson({
        id: '1',
        occurredAt: '2022-04-06 07:00:00.000000',
        actorId: null,
        actorUid: null,
        action: 'a',
        targetType: null,
        targetId: null,
        outcome: 'denied',
        ip: null,
        requestId: 'r',
        details: null,
      }),
    ],
  ])('%s', (_name, schema, value) => {
    expect(schema.parse(value)).toEqual(value);
  });
});
