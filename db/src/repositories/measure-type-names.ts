import type { Queryable } from './queryable';

/**
 * Measure type id → name, for measure reads that leave out the join with measure_types (a join
 * costs the database a lookup per row). Measure types are never renamed or deleted, so a name once
 * read stays right; an id not known yet (a type created since) reloads the table, which is small.
 */
export class MeasureTypeNames {
  private names = new Map<number, string>();
  private reload: Promise<void> | undefined;

  constructor(private readonly db: Queryable) {}

  /** The names of `ids`, reloading at most once when one is unknown. */
  async namesOf(ids: Iterable<number>): Promise<ReadonlyMap<number, string>> {
    for (const id of ids) {
      if (!this.names.has(id)) {
        await this.load();
        break;
      }
    }
    return this.names;
  }

  private load(): Promise<void> {
    // Concurrent misses share one query.
    this.reload ??= (async () => {
      try {
        const [rows] = await this.db.query('SELECT id, name FROM measure_types');
        this.names = new Map((rows as Array<{ id: number; name: string }>).map((t) => [Number(t.id), t.name]));
      } finally {
        this.reload = undefined;
      }
    })();
    return this.reload;
  }
}
