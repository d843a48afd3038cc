import express, { type NextFunction, type Request, type Response } from 'express';
import type { Exporter } from '../exporter.js';
import { presentFindings } from '../findings/redact.js';
import { findingsDocument } from '../findings/report.js';
import type { Logger } from '../log/logger.js';
import { accessControl } from './access-control.js';
import { landingPage } from './landing-page.js';
import type { WebConfigStore } from './web-config-store.js';

export interface AppOptions {
  readonly exporter: Exporter;
  readonly telemetryPath: string;
  readonly maxRequests: number;
  readonly version: string;
  readonly log: Logger;
  /** --web.config.file: headers, rate limit, client certificates, basic auth. */
  readonly webConfig: WebConfigStore;
  /** --findings.show-details: user names and remote addresses in findings; redacted otherwise. */
  readonly showFindingDetails: boolean;
  /** Reload the policy; shared with SIGHUP. */
  readonly reload: () => { ok: boolean; message: string };
}

/** The HTTP surface: landing page, metrics, health, reload and the findings API. */
export function createApp(options: AppOptions): express.Express {
  const { exporter, telemetryPath } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(accessControl(options.webConfig, options.log));

  // Every route that collects shares one limit: the page and the API cost what a scrape costs.
  const limited = limitConcurrency(options.maxRequests);
  app.get(telemetryPath, limited, async (_req, res) => {
    const snapshot = await exporter.snapshot();
    res.set('Content-Type', exporter.registry.contentType).send(snapshot.exposition);
  });

  app.get('/api/findings', limited, async (_req, res) => {
    const snapshot = await exporter.snapshot();
    res.json(findingsDocument(presentFindings(snapshot.result.findings, options.showFindingDetails)));
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });

  // Browsers ask for an icon on every page, the JSON view of /api/findings included: no icon, and no 404 in their console.
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });

  app.post('/-/reload', (_req, res) => {
    const outcome = options.reload();
    res
      .status(outcome.ok ? 200 : 500)
      .type('text/plain')
      .send(outcome.message + '\n');
  });

  if (telemetryPath !== '/') {
    app.get('/', limited, async (_req, res) => {
      const snapshot = await exporter.snapshot();
      const baseline = exporter.baseline.current.status;
      res.type('html').send(
        landingPage(
          {
            version: options.version,
            telemetryPath: telemetryPath.replace(/^\//, ''),
            policyOrigin: exporter.policy.current.origin,
            baselineStatus: baseline,
          },
          snapshot,
          options.showFindingDetails,
        ),
      );
    });
  }

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    options.log.error('request failed', { path: req.path, err: error instanceof Error ? error.message : String(error) });
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error; see the exporter log\n');
  });
  return app;
}

/** node_exporter's --web.max-requests: beyond this many concurrent requests, answer 503 at once. 0 = no limit. */
function limitConcurrency(max: number) {
  let active = 0;
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (max > 0 && active >= max) {
      res.status(503).type('text/plain').send(`too many concurrent scrapes (limit ${max}, --web.max-requests)\n`);
      return;
    }
    active++;
    res.on('close', () => active--);
    next();
  };
}
