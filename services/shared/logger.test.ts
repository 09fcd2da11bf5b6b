import { Writable } from 'node:stream';
import winston from 'winston';
import { withLogContext } from './context';
import { createLogger, redact, redactString } from './logger';

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

  it('is applied to every record the logger writes, with the context id', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ service: 't', level: 'info', transports: [new winston.transports.Stream({ stream: sink })] });
    logger.remove(logger.transports[0]); // keep the test output quiet: only the stream sink
    withLogContext({ requestId: 'req-1' }, () =>
      logger.info('connecting to amqp://svc:topsecret@h', { password: 'pw', url: 'mysql://root:pw2@db/x' }),
    );
    const rec = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(lines[0]).not.toMatch(/topsecret|pw2|"pw"/);
    expect(rec).toMatchObject({ 'log.level': 'info', 'http.request.id': 'req-1', password: '[REDACTED]' });
  });
});
