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

  /**
   * The name of each measure type the rows refer to, reloading at most once; an id that is still
   * unknown reads as its number rather than failing the read.
   */
  async forRows(rows: ReadonlyArray<{ readonly measure_type_id: number }>): Promise<(id: number) => string> {
    return this.forIds(rows.map((r) => Number(r.measure_type_id)));
  }

  /** As forRows, for the ids themselves. */
  async forIds(ids: readonly number[]): Promise<(id: number) => string> {
    const names = await this.namesOf(new Set(ids));
    return (id) => names.get(id) ?? String(id);
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
