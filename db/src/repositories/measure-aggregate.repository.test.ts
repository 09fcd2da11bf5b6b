import { buildMeasureAggregateSql } from './measure-aggregate.repository';

describe('buildMeasureAggregateSql', () => {
  const base = { experimentId: 7, from: '2024-01-01 00:00:00.000000', to: '2024-01-02 00:00:00.000000', intervalSeconds: 60 };

  it('groups by an integer bucket of seconds since the epoch, independent of the session time zone', () => {
    const { sql, params } = buildMeasureAggregateSql({ ...base, fns: ['avg', 'min', 'max', 'count'] });
    expect(sql).toContain("TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', m.ts) DIV ? AS bucket");
    expect(sql).not.toMatch(/UNIX_TIMESTAMP|CONVERT_TZ|FROM_UNIXTIME/);
    expect(sql).toContain('GROUP BY bucket, m.measure_type_id');
    expect(sql).toMatch(/ORDER BY bucket, m\.measure_type_id$/);
    expect(params).toEqual([60, 7, base.from, base.to]);
  });

  it('computes only the functions asked for, and every filter is a placeholder', () => {
    const { sql, params } = buildMeasureAggregateSql({ ...base, measureTypeId: 3, source: "x' OR 1=1", fns: ['max', 'count', 'max'] });
    expect(sql).toContain('  MAX(m.value) AS max_value, COUNT(*) AS n\n');
    expect(sql).not.toMatch(/AVG|MIN\(/);
    expect(sql).not.toContain("x'");
    expect(params).toEqual([60, 7, 3, "x' OR 1=1", base.from, base.to]);
  });

  it('refuses an empty list of functions', () => {
    expect(() => buildMeasureAggregateSql({ ...base, fns: [] })).toThrow();
  });
});
