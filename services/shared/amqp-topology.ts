import type { Channel } from 'amqplib';

/**
 * The broker topology of DESIGN §3.1. The original system used the same exchange, routing key and
 * queue names, so its adapters keep working.
 */
export const TOPOLOGY = {
  exchange: 'mymonit',
  routingKey: 'measures',
  queue: 'measures',
  deadLetterExchange: 'mymonit.dlx',
  deadLetterQueue: 'measures.dead',
  /** A message redelivered this many times (e.g. it keeps crashing consumers) is dead-lettered. */
  deliveryLimit: 20,
} as const;

export type TopologyNames = typeof TOPOLOGY;

/** Declares exchange, quorum queue, dead-letter path and binding. Idempotent. */
export async function assertTopology(ch: Channel, names: TopologyNames = TOPOLOGY): Promise<void> {
  await ch.assertExchange(names.exchange, 'direct', { durable: true });
  await ch.assertExchange(names.deadLetterExchange, 'direct', { durable: true });
  await ch.assertQueue(names.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(names.deadLetterQueue, names.deadLetterExchange, names.routingKey);
  await ch.assertQueue(names.queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': names.deadLetterExchange,
      'x-dead-letter-routing-key': names.routingKey,
      'x-delivery-limit': names.deliveryLimit,
    },
  });
  await ch.bindQueue(names.queue, names.exchange, names.routingKey);
}
