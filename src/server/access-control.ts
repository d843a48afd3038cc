import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log/logger.js';
import type { WebConfig } from './web-config.js';
import type { WebConfigStore } from './web-config-store.js';

// Compared against when the user is unknown, so a wrong user costs the same time as a wrong password.
const dummyHash = '$2b$10$ZB2bHUc6j7dHqRd9cspqg..Lax0Of3XhCyOdf7z8xEkVQUqW3N1TW';

/**
 * The web config's rules applied to every request: response headers, rate limit, client
 * certificate policy, basic auth. Successful bcrypt checks are cached (by a hash of user,
 * password and stored hash) because bcrypt costs ~90 ms a time in JavaScript.
 */
export function accessControl(store: WebConfigStore, log: Logger) {
  const verified = new Set<string>();
  let tokens = Number.NaN;
  let lastRefill = Date.now();

  const rateLimited = (config: WebConfig): boolean => {
    const limit = config.rateLimit;
    if (!limit || limit.intervalMs === 0) return false;
    const now = Date.now();
    if (Number.isNaN(tokens)) tokens = limit.burst;
    tokens = Math.min(limit.burst, tokens + (now - lastRefill) / limit.intervalMs);
    lastRefill = now;
    if (tokens < 1) return true;
    tokens -= 1;
    return false;
  };

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const config = store.current();
    for (const [name, value] of Object.entries(config.headers)) res.setHeader(name, value);
    if (rateLimited(config)) {
      res.status(429).type('text/plain').send('too many requests (web config rate_limit)\n');
      return;
    }
    const certProblem = clientCertificateProblem(config, req.socket as TLSSocket);
    if (certProblem) {
      log.warn('request refused: client certificate', { remote: req.socket.remoteAddress, problem: certProblem });
      res.status(403).type('text/plain').send(`forbidden: ${certProblem}\n`);
      return;
    }
    if (config.users.size > 0 && !(await authenticated(req, config, verified))) {
      res.setHeader('WWW-Authenticate', 'Basic realm="hostguard-exporter", charset="UTF-8"');
      res.status(401).type('text/plain').send('unauthorized\n');
      return;
    }
    next();
  };
}

function clientCertificateProblem(config: WebConfig, socket: TLSSocket): string | undefined {
  const tls = config.tls;
  if (
    !tls ||
    tls.clientAuth === 'NoClientCert' ||
    tls.clientAuth === 'RequestClientCert' ||
    typeof socket.getPeerCertificate !== 'function'
  )
    return undefined;
  const cert = socket.getPeerCertificate();
  const present = cert !== null && Object.keys(cert).length > 0;
  if (!present) return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'a client certificate is required';
  if ((tls.clientAuth === 'RequireAndVerifyClientCert' || tls.clientAuth === 'VerifyClientCertIfGiven') && !socket.authorized) {
    return `client certificate not trusted (${String(socket.authorizationError)})`;
  }
  if (tls.allowedSans.length > 0) {
    const sans = (cert.subjectaltname ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address|email|URI):/, ''));
    if (!sans.some((san) => tls.allowedSans.includes(san))) return 'client certificate SAN not allowed';
  }
  return undefined;
}

async function authenticated(req: Request, config: WebConfig, verified: Set<string>): Promise<boolean> {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const hash = config.users.get(user);
  const cacheKey = createHash('sha256')
    .update(`${user}\0${password}\0${hash ?? ''}`)
    .digest('hex');
  if (hash && verified.has(cacheKey)) return true;
  const ok = await bcrypt.compare(password, hash ?? dummyHash);
  if (ok && hash) {
    if (verified.size > 1000) verified.clear();
    verified.add(cacheKey);
  }
  return ok && hash !== undefined;
}
