import { statSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { emptyWebConfig, loadWebConfig, type WebConfig } from './web-config.js';

/**
 * The web config in force, re-read when the file or a certificate it names changes (like
 * exporter-toolkit, which reads it on every request). A change that does not load keeps the
 * previous config and is logged; at start-up a bad file is fatal (the caller lets it throw).
 */
export class WebConfigStore {
  private config: WebConfig;
  private signature: string;
  private lastCheck = 0;
  private readonly listeners: Array<(config: WebConfig) => void> = [];

  constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
    private readonly checkEveryMs = 1000,
  ) {
    this.config = file ? loadWebConfig(file) : emptyWebConfig;
    this.signature = this.currentSignature();
  }

  onChange(listener: (config: WebConfig) => void): void {
    this.listeners.push(listener);
  }

  /** The config for this request; files are stat'ed at most once per second. */
  current(now = Date.now()): WebConfig {
    if (!this.file || now - this.lastCheck < this.checkEveryMs) return this.config;
    this.lastCheck = now;
    const signature = this.currentSignature();
    if (signature === this.signature) return this.config;
    this.signature = signature;
    try {
      const next = loadWebConfig(this.file);
      if (Boolean(next.tls) !== Boolean(this.config.tls)) {
        this.log.error('web config change turns TLS on or off: restart the exporter for that; other settings applied', { file: this.file });
        this.config = { ...next, tls: this.config.tls };
      } else {
        this.config = next;
      }
      this.log.info('web config reloaded', { file: this.file });
      for (const listener of this.listeners) listener(this.config);
    } catch (error) {
      this.log.error('web config reload failed; keeping the previous one', { err: error instanceof Error ? error.message : String(error) });
    }
    return this.config;
  }

  private currentSignature(): string {
    return this.config.files
      .map((f) => {
        try {
          const s = statSync(f);
          return `${f}:${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch {
          return `${f}:absent`;
        }
      })
      .join('|');
  }
}
