import type { AdminListingService } from '../domain/admin-listings.service';
import { decodeIdCursor, encodeIdCursor } from '../domain/cursor';
import type { PageLimits } from '../domain/ports';
import { route } from '../http/route';
import { z } from 'zod';
import { auditResponse, rejectionResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { auditJson, nextLink, rejectionJson } from './presenters';
import { auditQuery, rejectionsQuery } from './schemas';

/** Rejections carry up to 64 KiB of raw text each, so their pages are smaller. */
const MAX_REJECTIONS_PAGE = 500;

export function adminRoutes(listings: AdminListingService, limits: PageLimits): RouteDefinition[] {
  const rejectionsMax = Math.min(limits.max, MAX_REJECTIONS_PAGE);
  return [
    route({
      method: 'GET',
      path: '/rejections',
      action: 'rejections.list',
      allow: ['ADMIN'],
      summary: 'Measures ingest could not store, newest first',
      response: z.array(rejectionResponse),
      query: rejectionsQuery(rejectionsMax),
      handler: async ({ query, url }) => {
        const page = await listings.rejections({
          reason: query.reason,
          beforeId: query.cursor === undefined ? undefined : decodeIdCursor('r', query.cursor),
          limit: query.limit ?? Math.min(limits.default, 100),
        });
        return {
          body: page.rows.map(rejectionJson),
          headers: page.nextBeforeId ? nextLink(url, encodeIdCursor('r', page.nextBeforeId)) : undefined,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/audit',
      action: 'audit.list',
      allow: ['ADMIN'],
      summary: 'Audit events, newest first',
      response: z.array(auditResponse),
      query: auditQuery(limits.max),
      handler: async ({ query, url }) => {
        const page = await listings.audit({
          actorId: query.actor,
          action: query.action,
          beforeId: query.cursor === undefined ? undefined : decodeIdCursor('a', query.cursor),
          limit: query.limit ?? limits.default,
        });
        return {
          body: page.rows.map(auditJson),
          headers: page.nextBeforeId ? nextLink(url, encodeIdCursor('a', page.nextBeforeId)) : undefined,
        };
      },
    }),
  ];
}
