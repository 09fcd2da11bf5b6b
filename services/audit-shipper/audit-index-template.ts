import type { estypes } from '@elastic/elasticsearch';
import { AUDIT_INDEX_PREFIX } from './audit-document';

/**
 * The index template for the daily audit indices, installed (or replaced) by the shipper at start.
 * Mappings are explicit and `dynamic: false`: a field this template does not name stays in
 * _source but is not indexed, so a newer shipper adding a field can never make documents fail
 * against an index created by an older template. Bump `version` with every change.
 */
export const AUDIT_TEMPLATE_NAME = 'mymonit-audit';
export const AUDIT_TEMPLATE_VERSION = 1;

const keyword = { type: 'keyword', ignore_above: 1024 } as const;

export function auditIndexTemplate(): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: AUDIT_TEMPLATE_NAME,
    index_patterns: [`${AUDIT_INDEX_PREFIX}*`],
    priority: 200,
    version: AUDIT_TEMPLATE_VERSION,
    _meta: { managed_by: 'mymonit-audit-shipper' },
    template: {
      settings: {
        number_of_shards: 1,
        // One copy on a single node, two as soon as the cluster has a second node.
        auto_expand_replicas: '0-1',
      },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date' },
          ecs: { properties: { version: keyword } },
          event: {
            properties: {
              id: keyword,
              sequence: { type: 'long' },
              kind: keyword,
              module: keyword,
              dataset: keyword,
              action: keyword,
              outcome: keyword,
              type: keyword,
            },
          },
          user: { properties: { id: keyword } },
          related: { properties: { user: keyword, ip: { type: 'ip' } } },
          source: { properties: { address: keyword, ip: { type: 'ip' } } },
          http: {
            properties: {
              request: { properties: { id: keyword, method: keyword } },
              response: { properties: { status_code: { type: 'long' } } },
            },
          },
          url: { properties: { path: keyword } },
          mymonit: {
            properties: {
              audit: {
                properties: {
                  outcome: keyword,
                  actor_uid: keyword,
                  target: { properties: { type: keyword, id: keyword } },
                  // Free-form per action; flattened keeps it searchable without growing the mapping.
                  details: { type: 'flattened' },
                },
              },
            },
          },
        },
      },
    },
  };
}
