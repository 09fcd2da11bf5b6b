import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../services/shared/logger';

/** A logger whose only transport keeps the lines it writes (the console one removed, for quiet output). */
export function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ service: 't', level: 'info', transports: [new winston.transports.Stream({ stream: sink })] });
  logger.remove(logger.transports[0]);
  return { logger, lines };
}
