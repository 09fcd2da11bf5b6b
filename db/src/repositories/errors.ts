/** Driver errors the repositories translate, so callers never inspect mysql2 error codes. */

/** A UNIQUE or PRIMARY key would be violated; `key` is the index name (e.g. `users_email`, `PRIMARY`). */
export class DuplicateKeyError extends Error {
  constructor(readonly key: string) {
    super(`duplicate value for key ${key}`);
    this.name = 'DuplicateKeyError';
  }
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  sqlMessage?: unknown;
  message?: unknown;
}

/** MariaDB says `for key 'users_email'`, MySQL 8 `for key 'users.users_email'`. */
const DUPLICATE_KEY = /for key '(?:[^'.]+\.)?([^']+)'/;

export function translateDriverError(err: unknown): unknown {
  const e = err as DriverError | null;
  if (e && (e.code === 'ER_DUP_ENTRY' || e.errno === 1062)) {
    const text = typeof e.sqlMessage === 'string' ? e.sqlMessage : typeof e.message === 'string' ? e.message : '';
    return new DuplicateKeyError(DUPLICATE_KEY.exec(text)?.[1] ?? 'unknown');
  }
  return err;
}

export async function translating<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw translateDriverError(err);
  }
}
