import {
  ConflictError,
  FieldConflictError,
  ForbiddenError,
  HiddenResourceError,
  MethodNotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../../shared/errors';
import { toProblem } from './problem';

describe('toProblem', () => {
  it.each([
    [new ValidationError('bad', [{ field: 'name', message: 'is required' }]), 400],
    [new UnauthorizedError('no token'), 401],
    [new ForbiddenError('no'), 403],
    [new NotFoundError('gone'), 404],
    [new HiddenResourceError('experiment 2 not found', 'not associated'), 404],
    [new ConflictError('dup'), 409],
    [new FieldConflictError('dup', [{ field: 'email', message: 'is already taken' }]), 409],
    [new ServiceUnavailableError('later'), 503],
  ])('maps %p to %i with its own message', (err, status) => {
    const { problem, unexpected } = toProblem(err);
    expect(problem).toMatchObject({ status, detail: err.message, type: expect.stringMatching(/^urn:mymonit:problem:/) });
    expect(unexpected).toBe(status >= 500);
    const errors = (err as { errors?: unknown[] }).errors;
    if (errors) expect(problem.errors).toEqual(errors);
    else expect(problem).not.toHaveProperty('errors');
  });

  it('never reveals why a hidden resource is hidden', () => {
    expect(JSON.stringify(toProblem(new HiddenResourceError('experiment 2 not found', 'not associated')))).not.toContain('associated');
  });

  it('adds the headers the status calls for', () => {
    expect(toProblem(new MethodNotAllowedError('no', ['GET', 'HEAD'])).headers).toEqual({ Allow: 'GET, HEAD' });
    expect(toProblem(new TooManyRequestsError('slow down', 12.2)).headers).toEqual({ 'Retry-After': '13' });
    expect(toProblem(new UnauthorizedError('x')).headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('maps body-parser errors without quoting the body', () => {
    const parse = Object.assign(new SyntaxError('Unexpected token s in JSON: "secret-body"'), { status: 400, expose: true, type: 'entity.parse.failed' });
    const p = toProblem(parse).problem;
    expect(p).toMatchObject({ status: 400, detail: 'the request body is not valid JSON' });
    expect(JSON.stringify(p)).not.toContain('secret-body');
    expect(toProblem(Object.assign(new Error('too big'), { status: 413, expose: true, type: 'entity.too.large' })).problem.status).toBe(413);
  });

  it('turns a database outage into 503 with Retry-After, naming nothing of the connection', () => {
    for (const code of ['ECONNREFUSED', 'PROTOCOL_CONNECTION_LOST', 'ER_LOCK_DEADLOCK']) {
      const { problem, headers, unexpected } = toProblem(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:3306'), { code }));
      expect(problem).toMatchObject({ status: 503, detail: 'the database is unavailable; retry later' });
      expect(headers['Retry-After']).toBe('5');
      expect(unexpected).toBe(true);
      expect(JSON.stringify(problem)).not.toContain('10.0.0.5');
    }
  });

  it('turns anything else into a bare 500', () => {
    const { problem, unexpected } = toProblem(new Error('connect ECONNREFUSED mysql://root:pw@db'));
    expect(problem).toMatchObject({ status: 500, title: 'Internal server error' });
    expect(JSON.stringify(problem)).not.toMatch(/ECONNREFUSED|pw|stack/);
    expect(unexpected).toBe(true);
    expect(toProblem(undefined).problem.status).toBe(500);
    expect(toProblem(Object.assign(new Error('x'), { status: 502 })).problem.status).toBe(500);
  });
});
