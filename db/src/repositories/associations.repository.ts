import { execute, selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { AssociationRecord, Role } from './records';

interface AssociationRow {
  experiment_id: number;
  experiment_name: string;
  id: string;
  name: string | null;
  username: string | null;
  email: string | null;
  role: Role;
  deleted_at: string | null;
}

/** Which scientists may read which experiments (table user_experiments). */
export class AssociationRepository {
  constructor(private readonly db: Queryable) {}

  async exists(experimentId: number, userId: string): Promise<boolean> {
    const rows = await selectRows(
      this.db,
      'SELECT 1 AS present FROM user_experiments WHERE experiment_id = ? AND user_id = ?',
      [experimentId, userId],
    );
    return rows.length > 0;
  }

  async list(): Promise<AssociationRecord[]> {
    const rows = await selectRows<AssociationRow>(
      this.db,
      `SELECT ue.experiment_id, e.name AS experiment_name, u.id, u.name, u.username, u.email, u.role, u.deleted_at
       FROM user_experiments ue
       JOIN experiments e ON e.id = ue.experiment_id
       JOIN users u ON u.id = ue.user_id
       ORDER BY ue.experiment_id, u.id`,
    );
    return rows.map((r) => ({
      experimentId: Number(r.experiment_id),
      experimentName: r.experiment_name,
      user: { id: r.id, name: r.name, username: r.username, email: r.email, role: r.role, deletedAt: r.deleted_at },
    }));
  }

  /** False when the association already existed. */
  async insert(experimentId: number, userId: string): Promise<boolean> {
    const r = await execute(this.db, 'INSERT IGNORE INTO user_experiments (experiment_id, user_id) VALUES (?, ?)', [
      experimentId,
      userId,
    ]);
    return r.affectedRows > 0;
  }

  /** False when there was none. */
  async delete(experimentId: number, userId: string): Promise<boolean> {
    const r = await execute(this.db, 'DELETE FROM user_experiments WHERE experiment_id = ? AND user_id = ?', [
      experimentId,
      userId,
    ]);
    return r.affectedRows > 0;
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    return (await execute(this.db, 'DELETE FROM user_experiments WHERE user_id = ?', [userId])).affectedRows;
  }
}
