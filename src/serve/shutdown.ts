// Graceful shutdown for the `serve` command: on SIGTERM (or SIGINT) stop accepting, finish
// the in-flight requests, exit 0 (130 for SIGINT, as the other commands). A second signal,
// or in-flight work outlasting shutdownTimeoutMs, exits 1 at once.
import type { TfjsQuantServer } from './server.js';

export function exitOnSignals(
  server: TfjsQuantServer,
  exit: (code: number) => void = (c) => process.exit(c),
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      server.app.log.warn(`${signal} again: exiting without waiting`);
      exit(1);
      return;
    }
    stopping = true;
    server.app.log.info(`${signal}: no new connections; finishing in-flight requests`);
    const timer = setTimeout(() => {
      server.app.log.error(`in-flight requests still running after ${server.options.shutdownTimeoutMs} ms: exiting`);
      exit(1);
    }, server.options.shutdownTimeoutMs);
    timer.unref();
    server.close().then(
      () => {
        clearTimeout(timer);
        exit(signal === 'SIGINT' ? 130 : 0);
      },
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
