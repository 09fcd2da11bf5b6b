import { buildMeasurePageSql } from './measure-read.repository';

describe('buildMeasurePageSql', () => {
  it('reads one experiment in primary-key order, every value a placeholder', () => {
    const { sql, params } = buildMeasurePageSql({ experimentId: 7, limit: 11 });
    expect(sql).toMatch(/WHERE m\.experiment_id = \?\nORDER BY m\.ts, m\.measure_type_id, m\.source\nLIMIT \?$/);
    // measures alone: a range read in key order, never a sort, and no name repeated on every row.
    expect(sql).toMatch(/^SELECT [^\n]*\nFROM measures m\nWHERE/);
    expect(sql).not.toContain('JOIN');
    expect(params).toEqual([7, 11]);
  });

  it('adds each filter and the keyset condition with a leading-column bound', () => {
    const { sql, params } = buildMeasurePageSql({
      experimentId: 7,
      measureTypeId: 3,
      source: "x' OR 1=1",
      from: '2022-01-01 00:00:00.000000',
      to: '2023-01-01 00:00:00.000000',
      after: { ts: '2022-06-01 00:00:00.000001', measureTypeId: 3, source: 'b' },
      limit: 5,
    });
    expect(sql).not.toContain("x'");
    expect(sql).toContain('m.measure_type_id = ?');
    expect(sql).toContain('m.source = ?');
    expect(sql).toContain('m.ts >= ?');
    expect(sql).toContain('m.ts < ?');
    expect(sql).toContain('m.ts >= ? AND (m.ts > ? OR (m.ts = ? AND (m.measure_type_id > ? OR (m.measure_type_id = ? AND m.source > ?))))');
    expect(params).toEqual([
      7,
      3,
      "x' OR 1=1",
      '2022-01-01 00:00:00.000000',
      '2023-01-01 00:00:00.000000',
      '2022-06-01 00:00:00.000001',
      '2022-06-01 00:00:00.000001',
      '2022-06-01 00:00:00.000001',
      3,
      3,
      'b',
      5,
    ]);
  });
});
