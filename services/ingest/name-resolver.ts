import { inject, injectable } from 'tsyringe';
import { CatalogRepository } from '../../db/src/repositories/catalog.repository';

/** How long a renamed experiment's old name may keep resolving. */
const CACHE_MAX_AGE_MS = 60_000;

/**
 * Resolves experiment and measure-type names to ids through a cache. A miss asks the database for
 * just the missing names (one query per batch that has misses), so a new experiment is picked up
 * on its first measure. Unknown names are not cached: the next batch asks again, which keeps a
 * freshly created experiment from being rejected for a while.
 */
export interface CatalogLookup {
  experimentIds(names?: readonly string[]): Promise<Map<string, number>>;
  measureTypeIds(names?: readonly string[]): Promise<Map<string, number>>;
}

export interface ResolvedNames {
  experiment(name: string): number | undefined;
  measureType(name: string): number | undefined;
}

@injectable()
export class NameResolver implements ResolvedNames {
  private readonly experiments = new Map<string, number>();
  private readonly measureTypes = new Map<string, number>();
  private filledAt = Date.now();

  constructor(@inject(CatalogRepository) private readonly catalog: CatalogLookup) {}

  experiment(name: string): number | undefined {
    return this.experiments.get(name);
  }

  measureType(name: string): number | undefined {
    return this.measureTypes.get(name);
  }

  /** Makes sure every given name that exists in the database is in the cache. */
  async load(experimentNames: Iterable<string>, measureTypeNames: Iterable<string>): Promise<void> {
    if (Date.now() - this.filledAt > CACHE_MAX_AGE_MS) {
      this.clear();
      this.filledAt = Date.now();
    }
    const missingExperiments = [...new Set(experimentNames)].filter((n) => !this.experiments.has(n));
    const missingTypes = [...new Set(measureTypeNames)].filter((n) => !this.measureTypes.has(n));
    const [e, t] = await Promise.all([
      missingExperiments.length ? this.catalog.experimentIds(missingExperiments) : undefined,
      missingTypes.length ? this.catalog.measureTypeIds(missingTypes) : undefined,
    ]);
    // The database compares names case-insensitively (utf8mb4_unicode_ci); cache under the name
    // as the message spelled it so the lookup that follows hits.
    if (e) fill(this.experiments, missingExperiments, e);
    if (t) fill(this.measureTypes, missingTypes, t);
  }

  /** Forgets everything (e.g. after an experiment was renamed). */
  clear(): void {
    this.experiments.clear();
    this.measureTypes.clear();
  }
}

function fill(cache: Map<string, number>, asked: readonly string[], found: Map<string, number>): void {
  const folded = new Map<string, number>();
  for (const [name, id] of found) folded.set(name.toLowerCase(), id);
  for (const name of asked) {
    const id = found.get(name) ?? folded.get(name.toLowerCase());
    if (id !== undefined) cache.set(name, id);
  }
}
