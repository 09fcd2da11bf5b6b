import { Writable } from 'node:stream';
import winston from 'winston';
import { withLogContext } from './context';
import { createLogger, redact, redactSql, redactString } from './logger';

/** A logger whose only transport keeps the lines it writes (the console one removed, for quiet output). */
function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ service: 't', level: 'info', transports: [new winston.transports.Stream({ stream: sink })] });
  logger.remove(logger.transports[0]);
  return { logger, lines };
}

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
