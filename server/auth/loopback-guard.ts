import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from '../http/app-env.js';
import { localPort } from './connection.js';
import { isLoopbackHost } from './middleware.js';
import type { TokenStore } from './token-store.js';

const FIX = 'or create a server token ("npm run token -- create <name>") and send it as Authorization: Bearer <token>';

/** Host header → host name and port (null when it names none); null when it does not parse. */
function parseHostHeader(host: string): { name: string; port: number | null } | null {
  try {
    const url = new URL(`http://${host}`);
    // URL drops the default port, so "host:80" and "host" both read as "no port".
    return { name: url.hostname, port: url.port === '' ? 80 : Number(url.port) };
  } catch {
    return null;
  }
}

/**
 * Without tokens the server trusts its own machine (README "Security"), and a
 * browser on that machine is its own machine too: any web page could POST to
 * 127.0.0.1 (a "simple" request needs no CORS preflight), and a page on a
 * domain re-pointed at 127.0.0.1 (DNS rebinding) could even read the answers.
 * So, while no token exists, a request must name this server in `Host`
 * (a loopback name with the port it arrived on: 421 otherwise) and carry no
 * `Origin` besides the server's own or an `api.cors_origins` entry (403
 * otherwise). Non-browser clients (curl, the extension host, MCP clients)
 * send no Origin. With tokens, a page cannot know a developer's token, so the
 * bearer check is the protection and these rules step aside.
 */
export function loopbackGuard(tokens: TokenStore, corsOrigins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowedOrigins = new Set(corsOrigins);
  return async (c, next) => {
    if (tokens.count() > 0) return next();
    // An in-process `app.request` has no Host header; its URL holds the host instead.
    const hostHeader = c.req.header('host') ?? new URL(c.req.url).host;
    const host = parseHostHeader(hostHeader);
    const port = localPort(c);
    if (host === null || !isLoopbackHost(host.name) || (port !== null && host.port !== port)) {
      throw new DomainError(
        'misdirected_request',
        `Host "${hostHeader.slice(0, 100)}" is not this server: without tokens it answers only requests addressed to 127.0.0.1, localhost or [::1]${port === null ? '' : ` on port ${port}`}; use http://127.0.0.1${port === null ? '' : `:${port}`} ${FIX}`,
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowedOrigins.has(origin) && !isOwnOrigin(origin, port)) {
      throw new DomainError(
        'forbidden_origin',
        `Origin "${origin.slice(0, 100)}" may not call this server: without tokens it refuses requests from web pages other than api.cors_origins; call it from curl, the editor or an MCP client, add the page to api.cors_origins, ${FIX}`,
      );
    }
    return next();
  };
}

/** A page served by this very server (same loopback host and port). */
function isOwnOrigin(origin: string, port: number | null): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const originPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname) && (port === null || originPort === port);
}
