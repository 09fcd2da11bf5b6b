import { inject, injectable } from 'tsyringe';
import type { Pool } from '../../../db/src/pool';
import { withTransaction } from '../../../db/src/pool';
import { AssociationRepository } from '../../../db/src/repositories/associations.repository';
import { AuditRepository } from '../../../db/src/repositories/audit.repository';
import { ExperimentRepository } from '../../../db/src/repositories/experiments.repository';
import { MeasureAggregateRepository } from '../../../db/src/repositories/measure-aggregate.repository';
import { MeasureReadRepository, streamMeasures } from '../../../db/src/repositories/measure-read.repository';
import { MeasureTypeNames } from '../../../db/src/repositories/measure-type-names';
import { MeasureTypeRepository } from '../../../db/src/repositories/measure-types.repository';
import type { Queryable } from '../../../db/src/repositories/queryable';
import type { MeasureRecord, MeasureStreamQuery } from '../../../db/src/repositories/records';
import { RejectionRepository } from '../../../db/src/repositories/rejections.repository';
import { UserRepository } from '../../../db/src/repositories/users.repository';
import { TOKENS } from '../../shared/tokens';
import type { Database, Stores } from '../domain/ports';

function storesOn(db: Queryable, typeNames: MeasureTypeNames): Stores {
  return {
    users: new UserRepository(db),
    experiments: new ExperimentRepository(db),
    associations: new AssociationRepository(db),
    measureTypes: new MeasureTypeRepository(db),
    measures: new MeasureReadRepository(db, typeNames),
    measureAggregates: new MeasureAggregateRepository(db, typeNames),
    rejections: new RejectionRepository(db),
    audit: new AuditRepository(db),
  };
}

/** The domain's Database port on a mysql2 pool. */
@injectable()
export class MysqlDatabase implements Database {
  readonly stores: Stores;
  /** Shared by every read: names are read from the pool, never from a connection busy streaming. */
  private readonly typeNames: MeasureTypeNames;

  constructor(@inject(TOKENS.Pool) private readonly pool: Pool) {
    this.typeNames = new MeasureTypeNames(pool);
    this.stores = storesOn(pool, this.typeNames);
  }

  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, (conn) => fn(storesOn(conn, this.typeNames)));
  }

  async ping(): Promise<void> {
    await this.pool.query({ sql: 'SELECT 1', timeout: 2000 });
  }

  async *streamMeasures(q: MeasureStreamQuery, signal?: AbortSignal): AsyncGenerator<MeasureRecord[]> {
    const conn = await this.pool.getConnection();
    let finished = false;
    try {
      yield* streamMeasures(conn, q, this.typeNames, signal);
      finished = true;
    } finally {
      if (finished) {
        conn.release();
      } else {
        // Stopped mid-result: the connection's protocol state is unusable, and the server would
        // go on producing rows until its writes fail. Drop the socket and kill the query.
        const threadId = conn.threadId;
        conn.destroy();
        await this.pool.query('KILL QUERY ?', [threadId]).catch(() => undefined);
      }
    }
  }
}
