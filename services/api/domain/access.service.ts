import { inject, injectable } from 'tsyringe';
import { ForbiddenError, HiddenResourceError } from '../../shared/errors';
import type { Actor } from './actor';
import { knownAssociation } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';

/** Decisions that need the database: whether a caller may read an experiment's data. */
@injectable()
export class AccessService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  /**
   * Only associated scientists read measures (an ADMIN manages, never reads data: 403). A
   * scientist not associated gets the same 404 as for an experiment that does not exist, so
   * experiment ids cannot be probed.
   */
  async assertCanReadExperiment(actor: Actor, experimentId: number): Promise<void> {
    if (actor.role !== 'SCIENTIST') throw new ForbiddenError('only an associated SCIENTIST may read measures');
    // Authentication usually read the association with the user row; asked again only when not.
    const known = knownAssociation(actor, experimentId)?.associated;
    if (!(known ?? (await this.db.stores.associations.exists(experimentId, actor.id)))) {
      throw new HiddenResourceError(`experiment ${experimentId} not found`, 'not associated with the experiment');
    }
  }
}
