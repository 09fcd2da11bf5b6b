import { translating } from './errors';
import { execute, selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { NewUser, Role, UserChanges, UserRecord } from './records';

interface UserRow {
  id: string;
  name: string | null;
  username: string | null;
  email: string | null;
  role: Role;
  deleted_at: string | null;
}

const COLUMNS = 'id, name, username, email, role, deleted_at';

function toRecord(r: UserRow): UserRecord {
  return { id: r.id, name: r.name, username: r.username, email: r.email, role: r.role, deletedAt: r.deleted_at };
}

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** Active or erased; callers decide what an erased user means to them. */
  async findById(id: string, forUpdate = false): Promise<UserRecord | undefined> {
    const rows = await selectRows<UserRow>(this.db, `SELECT ${COLUMNS} FROM users WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** The active user a Firebase uid maps to. */
  async findActiveByUsername(username: string): Promise<UserRecord | undefined> {
    const rows = await selectRows<UserRow>(
      this.db,
      `SELECT ${COLUMNS} FROM users WHERE username = ? AND deleted_at IS NULL`,
      [username],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /**
   * The active user a Firebase uid maps to, and whether they are associated with an experiment, in
   * one statement: a request for an experiment's measures needs both before it may go on.
   */
  async findActiveByUsernameWithAssociation(
    username: string,
    experimentId: number,
  ): Promise<{ user: UserRecord; associated: boolean; experimentName?: string } | undefined> {
    // The experiment's name comes along (non-null exactly when associated): a page of the
    // experiment's measures then needs no join to experiments for it.
    const rows = await selectRows<UserRow & { associated_experiment: string | null }>(
      this.db,
      `SELECT ${COLUMNS},
         (SELECT e.name FROM user_experiments ue JOIN experiments e ON e.id = ue.experiment_id
          WHERE ue.experiment_id = ? AND ue.user_id = users.id) AS associated_experiment
       FROM users WHERE username = ? AND deleted_at IS NULL`,
      [experimentId, username],
    );
    const r = rows[0];
    if (!r) return undefined;
    const name = r.associated_experiment;
    return name === null ? { user: toRecord(r), associated: false } : { user: toRecord(r), associated: true, experimentName: name };
  }

  async listActive(): Promise<UserRecord[]> {
    const rows = await selectRows<UserRow>(this.db, `SELECT ${COLUMNS} FROM users WHERE deleted_at IS NULL ORDER BY id`);
    return rows.map(toRecord);
  }

  async countActiveAdmins(): Promise<number> {
    const rows = await selectRows<{ n: number }>(
      this.db,
      "SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN' AND deleted_at IS NULL",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Throws DuplicateKeyError (PRIMARY, users_username, users_email) on a clash. */
  async insert(u: NewUser): Promise<void> {
    await translating(
      execute(this.db, 'INSERT INTO users (id, name, username, email, role) VALUES (?, ?, ?, ?, ?)', [
        u.id,
        u.name,
        u.username,
        u.email,
        u.role,
      ]),
    );
  }

  /** Updates an active user; false when there is none. Throws DuplicateKeyError on a clash. */
  async update(id: string, c: UserChanges): Promise<boolean> {
    const r = await translating(
      execute(
        this.db,
        'UPDATE users SET name = ?, username = ?, email = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL',
        [c.name, c.username, c.email, id],
      ),
    );
    // affectedRows counts matched rows here only if CLIENT_FOUND_ROWS is set (mysql2 sets it).
    return r.affectedRows > 0;
  }

  /**
   * GDPR erasure: personal fields become NULL (the unique keys allow many NULLs), the id stays so
   * audit rows keep pointing at someone. False when there is no active user with that id.
   */
  async anonymise(id: string): Promise<boolean> {
    const r = await execute(
      this.db,
      'UPDATE users SET name = NULL, username = NULL, email = NULL, deleted_at = CURRENT_TIMESTAMP(6), updated_at = CURRENT_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL',
      [id],
    );
    return r.affectedRows > 0;
  }
}
