import { withLogContext } from './context';
import { redact, redactServerMessage, redactSql, redactString } from './logger';
import { captureLogger } from '../../test/support/capture-logger';

describe('redaction', () => {
  it('strips URL credentials and bearer tokens from strings', () => {
    expect(redactString('amqp://ingest:hunter2@rabbit:5672/x')).toBe('amqp://ingest:***@rabbit:5672/x');
    expect(redactString('Authorization: Bearer eyJhbGciOi.abc.def')).toBe('Authorization: Bearer ***');
  });

  it('masks secret-looking keys at any depth', () => {
    expect(redact({ user: 'a', password: 'p', nested: { apiKey: 'k', list: [{ token: 't' }] } })).toEqual({
      user: 'a',
      password: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', list: [{ token: '[REDACTED]' }] },
    });
  });

  it('replaces the values of a SQL statement, quoted, escaped, hex or numeric, and keeps its shape', () => {
    expect(
      redactSql("INSERT INTO users (id, name, email, n) VALUES ('S1', 'O\\'Brien', 'it''s@x.org', -12.5e3), ('S2', 'a', 0x41, 7)"),
    ).toBe('INSERT INTO users (id, name, email, n) VALUES (?, ?, ?, ?), (?, ?, ?, ?)');
    expect(redactSql('SELECT m.ts FROM measures m WHERE m.experiment_id = 42 LIMIT 1001')).toBe(
      'SELECT m.ts FROM measures m WHERE m.experiment_id = ? LIMIT ?',
    );
  });

  it('logs a database error with its statement, without the values in it', () => {
    const { logger, lines } = captureLogger();
    const err = Object.assign(new Error('Deadlock found when trying to get lock'), {
      code: 'ER_LOCK_DEADLOCK',
      sql: "UPDATE users SET name = 'Ada Lovelace', email = 'ada@example.org' WHERE id = 'U1'",
    });
    logger.error('request failed', { err });
    expect(lines[0]).not.toMatch(/Lovelace|ada@example\.org|U1/);
    expect(lines[0]).toContain('UPDATE users SET name = ?, email = ? WHERE id = ?');
    expect(lines[0]).toContain('ER_LOCK_DEADLOCK');
  });

  it('replaces the values a database server quotes in its messages, keeping the index of a duplicate', () => {
    expect(redactServerMessage("Duplicate entry 'ada@example.org' for key 'users_email'")).toBe("Duplicate entry ? for key 'users_email'");
    // Values are not escaped in these messages: one with quotes in it goes as a whole.
    expect(redactServerMessage("Duplicate entry 'O'Brien' for key 'users.users_name'")).toBe("Duplicate entry ? for key 'users.users_name'");
    expect(redactServerMessage("Incorrect datetime value: 'it's 3pm' for column `db`.`t`.`ts` at row 1")).toBe(
      'Incorrect datetime value: ? for column `db`.`t`.`ts` at row 1',
    );
    expect(redactServerMessage("Incorrect string value: 'caf\\xC3 at row 1")).toBe('Incorrect string value: ?');
    expect(redactServerMessage('Lock wait timeout exceeded; try restarting transaction')).toBe('Lock wait timeout exceeded; try restarting transaction');
  });

  it('logs a copy of a database error without the values; the error itself stays as it was', () => {
    const { logger, lines } = captureLogger();
    const text = "Duplicate entry 'ada@example.org' for key 'users_email'";
    const err = Object.assign(new Error(text), { code: 'ER_DUP_ENTRY', sqlMessage: text, sql: "INSERT INTO users (email) VALUES ('ada@example.org')" });
    logger.error('request failed', { err, nested: { cause: err } });
    expect(lines[0]).not.toContain('ada@example.org');
    expect(lines[0]).toContain("Duplicate entry ? for key 'users_email'");
    expect(err.message).toBe(text);
    expect(err.sqlMessage).toBe(text);
    expect(err.stack).toContain(text);
  });

  it('is applied to every record the logger writes, with the context id', () => {
    const { logger, lines } = captureLogger();
    withLogContext({ requestId: 'req-1' }, () =>
      logger.info('connecting to amqp://svc:topsecret@h', { password: 'pw', url: 'mysql://root:pw2@db/x' }),
    );
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(lines[0]).not.toMatch(/topsecret|pw2|"pw"/);
    expect(rec).toMatchObject({ 'log.level': 'info', 'http.request.id': 'req-1', password: '[REDACTED]' });
  });
});
