import type { OutboxEvent } from '../../db/src/repositories/audit-outbox.repository';
import { auditIndexFor, isoTimestamp, toAuditDocument } from './audit-document';

const event: OutboxEvent = {
  id: '42',
  occurredAt: '2026-03-01 23:59:59.123456',
  actorId: 'S001',
  actorUid: 'firebase-uid',
  action: 'measures.read',
  targetType: 'experiment',
  targetId: '7',
  outcome: 'denied',
  ip: '203.0.113.9',
  requestId: 'req-1',
  details: '{"method":"GET","path":"/measures/7","status":404,"reason":"not associated"}',
  shipAttempts: 0,
};

describe('audit documents', () => {
  it('names the daily index after the UTC day the event occurred', () => {
    expect(isoTimestamp('2026-03-01 23:59:59.123456')).toBe('2026-03-01T23:59:59.123456Z');
    expect(auditIndexFor('2026-03-01 23:59:59.999999')).toBe('mymonit-audit-2026.03.01');
    expect(auditIndexFor('2026-03-02 00:00:00.000000')).toBe('mymonit-audit-2026.03.02');
    expect(() => isoTimestamp('yesterday')).toThrow(/unexpected occurred_at/);
  });

  it('maps a row to ECS fields, keeping the finer MyMONIT outcome', () => {
    expect(toAuditDocument(event)).toEqual({
      '@timestamp': '2026-03-01T23:59:59.123456Z',
      ecs: { version: '8.11.0' },
      event: {
        id: '42',
        sequence: 42,
        kind: 'event',
        module: 'mymonit',
        dataset: 'mymonit.audit',
        action: 'measures.read',
        outcome: 'failure',
        type: ['denied'],
      },
      user: { id: 'S001' },
      related: { user: ['S001', 'firebase-uid'], ip: ['203.0.113.9'] },
      source: { address: '203.0.113.9', ip: '203.0.113.9' },
      http: { request: { id: 'req-1', method: 'GET' }, response: { status_code: 404 } },
      url: { path: '/measures/7' },
      mymonit: {
        audit: {
          outcome: 'denied',
          actor_uid: 'firebase-uid',
          target: { type: 'experiment', id: '7' },
          details: { method: 'GET', path: '/measures/7', status: 404, reason: 'not associated' },
        },
      },
    });
  });

  it('never puts a non-address into the ip-typed source.ip, and survives odd details', () => {
    const doc = toAuditDocument({ ...event, ip: 'unknown', actorId: null, actorUid: null, requestId: null, details: 'not json', outcome: 'success' });
    expect(doc.source).toEqual({ address: 'unknown' });
    expect(doc.related).toBeUndefined();
    expect(doc.user).toBeUndefined();
    expect(doc.http).toBeUndefined();
    expect(doc.event).toMatchObject({ outcome: 'success', type: ['allowed'] });
    expect(doc.mymonit.audit.details).toEqual({ unparsable: 'not json' });
  });
});
