import { DuplicateKeyError } from '../../../db/src/repositories/errors';
import { FieldConflictError } from '../../shared/errors';

/** Turns a unique-key violation into a 409 naming the request field; other errors pass through. */
export function conflictFromDuplicate(err: unknown, fieldOfKey: Record<string, string>, what: string): unknown {
  if (!(err instanceof DuplicateKeyError)) return err;
  const field = fieldOfKey[err.key] ?? err.key;
  return new FieldConflictError(`another ${what} already has this ${field}`, [{ field, message: 'is already taken' }]);
}
