import { ForbiddenError, HiddenResourceError } from '../../shared/errors';
import { AccessService } from './access.service';
import type { Actor } from './actor';
import type { Database } from './ports';

/** The database knows one association: S001 with experiment 7. */
const asked: string[] = [];
const db = {
  stores: {
    associations: {
      exists: (experimentId: number, userId: string) => {
        asked.push(`${userId} in ${experimentId}`);
        return Promise.resolve(experimentId === 7 && userId === 'S001');
      },
    },
  },
} as unknown as Database;
const access = new AccessService(db);
const scientist: Actor = { id: 'S001', uid: 'uid-1', role: 'SCIENTIST', tokenExpiresAt: 1_700_000_000_000 };

describe('AccessService.assertCanReadExperiment', () => {
  beforeEach(() => {
    asked.length = 0;
  });

  it('takes the association authentication read for the same experiment, without asking again', async () => {
    await expect(access.assertCanReadExperiment({ ...scientist, association: { experimentId: 7, associated: true } }, 7)).resolves.toBeUndefined();
    // The answer that came with the user row wins, even where the database would now say otherwise.
    await expect(access.assertCanReadExperiment({ ...scientist, association: { experimentId: 7, associated: false } }, 7)).rejects.toBeInstanceOf(
      HiddenResourceError,
    );
    expect(asked).toEqual([]);
  });

  it('asks the database when the actor carries no answer for that experiment', async () => {
    await expect(access.assertCanReadExperiment(scientist, 7)).resolves.toBeUndefined();
    await expect(access.assertCanReadExperiment({ ...scientist, association: { experimentId: 7, associated: true } }, 8)).rejects.toBeInstanceOf(
      HiddenResourceError,
    );
    expect(asked).toEqual(['S001 in 7', 'S001 in 8']);
  });

  it('refuses an ADMIN whatever the association says', async () => {
    const admin: Actor = { ...scientist, id: 'A001', role: 'ADMIN', association: { experimentId: 7, associated: true } };
    await expect(access.assertCanReadExperiment(admin, 7)).rejects.toBeInstanceOf(ForbiddenError);
    expect(asked).toEqual([]);
  });
});
