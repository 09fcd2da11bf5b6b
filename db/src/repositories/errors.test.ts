import { DuplicateKeyError, translateDriverError } from './errors';

describe('translateDriverError', () => {
  it('names the key of a duplicate on MariaDB and on MySQL 8', () => {
    const maria = { code: 'ER_DUP_ENTRY', errno: 1062, sqlMessage: "Duplicate entry 'a@b' for key 'users_email'" };
    const mysql = { code: 'ER_DUP_ENTRY', errno: 1062, sqlMessage: "Duplicate entry 'a@b' for key 'users.users_email'" };
    for (const e of [maria, mysql]) {
      const t = translateDriverError(e);
      expect(t).toBeInstanceOf(DuplicateKeyError);
      expect((t as DuplicateKeyError).key).toBe('users_email');
    }
    expect((translateDriverError({ errno: 1062, sqlMessage: "Duplicate entry 'S1' for key 'PRIMARY'" }) as DuplicateKeyError).key).toBe('PRIMARY');
  });

  it('passes other errors through untouched', () => {
    const e = new Error('boom');
    expect(translateDriverError(e)).toBe(e);
  });
});
