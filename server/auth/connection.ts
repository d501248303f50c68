import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isRecord } from '../../shared/guards.js';

/**
 * The request's socket when @hono/node-server served it; null for an
 * in-process `app.request`, which has no bindings (getConnInfo would throw).
 */
function nodeSocket(c: Context): Record<string, unknown> | null {
  const env: unknown = c.env;
  if (!isRecord(env) || !isRecord(env.incoming) || !isRecord(env.incoming.socket)) return null;
  return env.incoming.socket;
}

/** The peer's address (getConnInfo), or null when the request did not come over a socket. */
export function remoteAddress(c: Context): string | null {
  return nodeSocket(c) === null ? null : (getConnInfo(c).remote.address ?? null);
}

/**
 * The port this request arrived on (the server's own, even when it listens on
 * port 0), or null without a socket. getConnInfo reports only the remote side,
 * so this one reads the socket's `localPort`.
 */
export function localPort(c: Context): number | null {
  const port = nodeSocket(c)?.localPort;
  return typeof port === 'number' ? port : null;
}
