import { translating } from './errors';
import { execute, selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { MeasureTypeRecord } from './records';

export class MeasureTypeRepository {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<MeasureTypeRecord[]> {
    const rows = await selectRows<MeasureTypeRecord>(this.db, 'SELECT id, name, symbol, quantity FROM measure_types ORDER BY id');
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async findByName(name: string): Promise<MeasureTypeRecord | undefined> {
    const rows = await selectRows<MeasureTypeRecord>(
      this.db,
      'SELECT id, name, symbol, quantity FROM measure_types WHERE name = ?',
      [name],
    );
    return rows[0] && { ...rows[0], id: Number(rows[0].id) };
  }

  /** Returns the new id; throws DuplicateKeyError (measure_types_name) on a clash. */
  async insert(t: Omit<MeasureTypeRecord, 'id'>): Promise<number> {
    const r = await translating(
      execute(this.db, 'INSERT INTO measure_types (name, symbol, quantity) VALUES (?, ?, ?)', [t.name, t.symbol, t.quantity]),
    );
    return r.insertId;
  }
}
