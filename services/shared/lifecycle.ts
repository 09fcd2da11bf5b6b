import type { Logger } from './logger';

/**
 * Wires SIGTERM and SIGINT to one idempotent stop(). A second signal while stopping forces exit,
 * so an operator is never stuck behind a hung dependency.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal, exiting now', { signal });
      exit(1);
      return;
    }
    stopping = true;
    logger.info('stopping', { signal });
    stop().then(
      () => exit(0),
      (err: unknown) => {
        logger.error('stop failed', { err });
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Makes an async function run once; later calls get the first call's promise. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
