import type { Logger } from '../log/logger.js';

/**
 * The signals `serve` answers, handled from its first moment: learning a baseline can take minutes,
 * and a `systemctl reload` meanwhile must not kill the process (SIGHUP's default action). A reload
 * that arrives before the collectors started is done once they have.
 */
export class ServeSignals {
  /** Resolves with the name of the first SIGTERM or SIGINT. */
  readonly stopRequested: Promise<string>;
  private ready = false;
  private reloadWaiting = false;

  constructor(
    private readonly reload: () => void,
    private readonly log: Logger,
  ) {
    process.on('SIGHUP', () => this.onHangup());
    this.stopRequested = new Promise((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
  }

  /** The collectors run: reload now if asked to meanwhile, and at once from here on. */
  started(): void {
    this.ready = true;
    if (this.reloadWaiting) {
      this.reloadWaiting = false;
      this.reload();
    }
  }

  private onHangup(): void {
    if (!this.ready) {
      this.log.info('SIGHUP received while starting: reloading the policy once started');
      this.reloadWaiting = true;
      return;
    }
    this.log.info('SIGHUP received: reloading the policy');
    this.reload();
  }
}
