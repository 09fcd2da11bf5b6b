import { inject, injectable } from 'tsyringe';
import { ValidationError } from '../../shared/errors';
import { DATABASE } from './ports';
import type { Database } from './ports';

/** Most names remembered; beyond it the memory starts over. */
const MAX_REMEMBERED = 1000;

/**
 * Measure type name → id for measure filters. Measure types are never renamed or deleted (only
 * POST /measure-types changes them), so a name once found keeps its id and is remembered; a name
 * not found is asked again next time, since it may be created meanwhile.
 */
@injectable()
export class MeasureTypeIds {
  private readonly ids = new Map<string, number>();

  constructor(@inject(DATABASE) private readonly db: Database) {}

  /** undefined for no filter; a 400 naming `measure` for a name that is no measure type. */
  async resolve(name: string | undefined): Promise<number | undefined> {
    if (name === undefined) return undefined;
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const type = await this.db.stores.measureTypes.findByName(name);
    if (!type) throw new ValidationError('unknown measure type', [{ field: 'measure', message: 'is not a known measure type' }]);
    if (this.ids.size >= MAX_REMEMBERED) this.ids.clear();
    this.ids.set(name, type.id);
    return type.id;
  }
}
