import { translating } from './errors';
import { execute, selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { ExperimentRecord } from './records';

export class ExperimentRepository {
  constructor(private readonly db: Queryable) {}

  async findById(id: number): Promise<ExperimentRecord | undefined> {
    const rows = await selectRows<ExperimentRecord>(this.db, 'SELECT id, name FROM experiments WHERE id = ?', [id]);
    return rows[0] && { id: Number(rows[0].id), name: rows[0].name };
  }

  async listAll(): Promise<ExperimentRecord[]> {
    const rows = await selectRows<ExperimentRecord>(this.db, 'SELECT id, name FROM experiments ORDER BY id');
    return rows.map((r) => ({ id: Number(r.id), name: r.name }));
  }

  async listForUser(userId: string): Promise<ExperimentRecord[]> {
    const rows = await selectRows<ExperimentRecord>(
      this.db,
      `SELECT e.id, e.name FROM experiments e
       JOIN user_experiments ue ON ue.experiment_id = e.id
       WHERE ue.user_id = ? ORDER BY e.id`,
      [userId],
    );
    return rows.map((r) => ({ id: Number(r.id), name: r.name }));
  }

  /** Returns the new id; throws DuplicateKeyError (experiments_name) on a clash. */
  async insert(name: string): Promise<number> {
    const r = await translating(execute(this.db, 'INSERT INTO experiments (name) VALUES (?)', [name]));
    return r.insertId;
  }

  /** False when there is no such experiment. Throws DuplicateKeyError on a clash. */
  async rename(id: number, name: string): Promise<boolean> {
    const r = await translating(execute(this.db, 'UPDATE experiments SET name = ? WHERE id = ?', [name, id]));
    return r.affectedRows > 0;
  }
}
