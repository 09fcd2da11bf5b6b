import { createUserBody, emailSchema, limitQuery, measuresQuery, timestampQuery } from './schemas';

describe('timestampQuery', () => {
  it.each([
    ['2022-04-06T07:00:00Z', '2022-04-06 07:00:00.000000'],
    ['2022-04-06T07:00:00.123456Z', '2022-04-06 07:00:00.123456'],
    ['2022-04-06T09:00:00+02:00', '2022-04-06 07:00:00.000000'],
    // An unencoded "+" arrives as a space.
    ['2022-04-06T09:00:00 02:00', '2022-04-06 07:00:00.000000'],
    ['1649228400', '2022-04-06 07:00:00.000000'],
    ['1649228400.5', '2022-04-06 07:00:00.500000'],
    ['1649228400123', '2022-04-06 07:00:00.123000'],
  ])('%s → %s', (input, sql) => {
    expect(timestampQuery.parse(input)).toBe(sql);
  });

  it.each(['yesterday', '2022-04-06', '2022-04-06T07:00:00', '2022-13-01T00:00:00Z', '-5'])('refuses %s', (input) => {
    expect(timestampQuery.safeParse(input).success).toBe(false);
  });
});

describe('limitQuery', () => {
  it('accepts 1..max only', () => {
    const l = limitQuery(100);
    expect(l.parse('1')).toBe(1);
    expect(l.parse('100')).toBe(100);
    for (const bad of ['0', '101', '-1', '1.5', 'ten', '']) expect(l.safeParse(bad).success).toBe(false);
  });
});

describe('measuresQuery', () => {
  it('is strict and refuses repeated parameters', () => {
    const q = measuresQuery(100);
    expect(q.parse({ measure: 'hertz', limit: '5' })).toEqual({ measure: 'hertz', limit: 5 });
    expect(q.safeParse({ sort: 'desc' }).success).toBe(false);
    expect(q.safeParse({ limit: ['1', '2'] }).success).toBe(false);
  });
});

describe('user bodies', () => {
  const ok = { user_id: 'S123', name: ' Foo Bar ', username: 'firebaseUid', email: 'foo@bar.com', role: 'SCIENTIST' };
  it('trims names and accepts the collection’s loose e-mail', () => {
    expect(createUserBody.parse(ok).name).toBe('Foo Bar');
    expect(emailSchema.parse('foo@bar')).toBe('foo@bar');
  });
  it('refuses unknown fields, blank or oversized values and unknown roles', () => {
    for (const bad of [{ ...ok, extra: 1 }, { ...ok, name: ' ' }, { ...ok, name: 'x'.repeat(256) }, { ...ok, role: 'ROOT' }, { ...ok, username: 'has space' }]) {
      expect(createUserBody.safeParse(bad).success).toBe(false);
    }
  });
});
