import { checkInput, profileUpdateSchema } from '../domain/input';
import { nextProfile, type ProfileRecord, winningProfile } from '../domain/profile-register';
import { ApiError } from '../shared/api-error';
import { json } from '../shared/http';
import { type DomainHandler, domainHandler } from '../shared/instrumented';
import type { RegionContext } from '../shared/region-context';
import { callerOf, jsonBody, valid } from '../shared/request';
import type { EventualStore } from '../stores/eventual-store';

export interface ProfileApiDependencies {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
  readonly clock?: () => Date;
}

/** Attempts at a profile write when another write in this region gets in first. */
const WRITE_ATTEMPTS = 3;

/** `GET`/`PUT /api/me/profile`: a register whose winner every region agrees on. */
export function createProfileApi(deps: ProfileApiDependencies): DomainHandler {
  const clock = deps.clock ?? (() => new Date());
  return domainHandler({
    domain: 'profile',
    context: deps.context,
    routes: {
      'GET /api/me/profile': async (event) => {
        const { userId } = callerOf(event);
        const winner = winningProfile(await deps.eventual.getProfileRecords(userId));
        if (!winner) throw new ApiError(404, 'PROFILE_NOT_FOUND', 'No profile yet: PUT one first');
        return json(200, profileView(winner));
      },

      'PUT /api/me/profile': async (event) => {
        const { userId } = callerOf(event);
        const update = valid(checkInput(profileUpdateSchema, jsonBody(event)));
        const fields = { displayName: update.displayName, preferences: update.preferences ?? {} };
        for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
          const current = winningProfile(await deps.eventual.getProfileRecords(userId));
          const next = nextProfile(current, fields, deps.context.region, clock());
          if (await deps.eventual.putProfileRecord(userId, next)) return json(200, profileView(next));
        }
        throw new ApiError(409, 'PROFILE_CONTENDED', 'The profile kept changing while saving; try again');
      },
    },
  });
}

function profileView(record: ProfileRecord) {
  return {
    displayName: record.displayName,
    preferences: record.preferences,
    version: record.version,
    updatedAt: new Date(record.updatedAt).toISOString(),
    updatedIn: record.region,
  };
}
