import { z } from 'zod';
import { ValidationError } from '../../shared/errors';
import { fieldErrors, parsePart } from './validation';

describe('fieldErrors', () => {
  const schema = z.strictObject({ name: z.string(), nested: z.strictObject({ n: z.number() }).optional() });

  it('names each field as the client wrote it, and every unknown key', () => {
    const r = schema.safeParse({ nested: { n: 'x' }, extra: 1, other: 2 });
    expect(r.success).toBe(false);
    const errors = fieldErrors('body', r.error!.issues);
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'is required' },
        { field: 'nested.n', message: expect.stringMatching(/number/) },
        { field: 'extra', message: 'is not allowed' },
        { field: 'other', message: 'is not allowed' },
      ]),
    );
  });

  it('names the part when the whole value is wrong', () => {
    const r = schema.safeParse('text');
    expect(fieldErrors('body', r.error!.issues)).toEqual([{ field: 'body', message: expect.any(String) }]);
  });
});

describe('parsePart', () => {
  it('returns parsed data or throws a ValidationError listing the fields', () => {
    expect(parsePart(z.object({ a: z.string() }), 'query', { a: 'x' })).toEqual({ a: 'x' });
    expect(() => parsePart(z.object({ a: z.string() }), 'query', {})).toThrow(ValidationError);
    try {
      parsePart(z.object({ a: z.string() }), 'query', {});
    } catch (err) {
      expect((err as ValidationError).errors).toEqual([{ field: 'a', message: 'is required' }]);
      expect((err as ValidationError).message).toBe('invalid query: a is required');
    }
  });
});
