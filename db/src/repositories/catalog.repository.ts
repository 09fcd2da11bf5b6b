import type { Pool } from '../pool';

/** Name → id lookups for the two catalogs ingest resolves measures against. */
export class CatalogRepository {
  constructor(private readonly pool: Pool) {}

  async experimentIds(names?: readonly string[]): Promise<Map<string, number>> {
    return this.ids('experiments', names);
  }

  async measureTypeIds(names?: readonly string[]): Promise<Map<string, number>> {
    return this.ids('measure_types', names);
  }

  private async ids(table: 'experiments' | 'measure_types', names?: readonly string[]): Promise<Map<string, number>> {
    if (names && names.length === 0) return new Map();
    const [rows] = names
      ? await this.pool.query(`SELECT id, name FROM ${table} WHERE name IN (?)`, [names])
      : await this.pool.query(`SELECT id, name FROM ${table}`);
    return new Map((rows as Array<{ id: number; name: string }>).map((r) => [r.name, r.id]));
  }
}
