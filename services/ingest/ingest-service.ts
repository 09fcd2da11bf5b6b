import { inject, injectable } from 'tsyringe';
import { AmqpConsumer } from '../shared/amqp-consumer';
import type { Logger } from '../shared/logger';
import type { Readiness } from '../shared/ops-server';
import { TOKENS } from '../shared/tokens';
import { MeasureBatcher } from './measure-batcher';

/** Ties the consumer to the batcher and answers readiness; stop() is the graceful shutdown. */
@injectable()
export class IngestService implements Readiness {
  constructor(
    @inject(AmqpConsumer) private readonly consumer: AmqpConsumer,
    @inject(MeasureBatcher) private readonly batcher: MeasureBatcher,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  notReadyReason(): string | undefined {
    if (!this.consumer.connected) return 'not connected to RabbitMQ';
    const failure = this.batcher.writeFailure;
    if (failure) return `cannot write to MySQL: ${failure}`;
    return undefined;
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  /** Stop consuming, write and ack what was received, then close the channel and connection. */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.consumer.cancel();
    const drained = await this.batcher.drain(drainTimeoutMs);
    if (!drained) this.logger.warn('could not write everything before stopping; the broker will redeliver the rest');
    await this.consumer.close();
  }
}
