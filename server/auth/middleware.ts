import type { Context, MiddlewareHandler } from 'hono';
import { DomainError } from '../errors/domain-error.js';
import { LOCAL_DEVELOPER, type AppEnv, type Developer } from '../http/app-env.js';
import { remoteAddress } from './connection.js';
import type { TokenStore } from './token-store.js';

const SET_TOKEN_HINT = 'set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how Node reports IPv4 clients of a dual-stack socket). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice('::ffff:'.length) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A bind address only this machine can reach. "0.0.0.0", "::" and real interfaces are not. */
export function isLoopbackHost(host: string): boolean {
  return host.trim().toLowerCase() === 'localhost' || isLoopbackAddress(host);
}

/**
 * Why the server must not start, or null. Without tokens every request runs as
 * the local admin, which is only safe when nobody else can connect.
 */
export function exposureRefusal(host: string, tokenCount: number): string | null {
  if (tokenCount > 0 || isLoopbackHost(host)) return null;
  return `api.host is "${host}", reachable from other machines, and no server tokens exist; create one with "npm run token -- create <name>" (add --admin for operators) or bind to 127.0.0.1`;
}

/** The refusal to throw; the app's error handler answers it (401), keeping the challenge header set here. */
function unauthorized(c: Context<AppEnv>, message: string): DomainError {
  c.header('WWW-Authenticate', 'Bearer realm="ai-library"');
  return new DomainError('unauthorized', message);
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Who a request runs as, or null when /api would refuse it: with tokens, the
 * holder of a valid bearer token; without, the local developer for requests
 * from this machine (or in-process ones).
 */
export function requestDeveloper(c: Context<AppEnv>, tokens: TokenStore): Developer | null {
  if (tokens.count() === 0) {
    const peer = remoteAddress(c);
    return peer !== null && !isLoopbackAddress(peer) ? null : LOCAL_DEVELOPER;
  }
  const token = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  return token === undefined ? null : tokens.verify(token);
}

/**
 * Sets `developer` for every /api route. With tokens, a valid
 * `Authorization: Bearer` is required; without any, requests from this machine
 * run as LOCAL_DEVELOPER (tokens revoked while the server runs on 0.0.0.0 must
 * not open it to the network, so the peer address is checked per request).
 */
export function authenticate(tokens: TokenStore): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (tokens.count() === 0) {
      const peer = remoteAddress(c);
      if (peer !== null && !isLoopbackAddress(peer)) {
        throw unauthorized(
          c,
          `this server has no tokens yet, so it only answers requests from its own machine; an operator creates one with "npm run token -- create <name>", then ${SET_TOKEN_HINT}`,
        );
      }
      c.set('developer', LOCAL_DEVELOPER);
      await next();
      return;
    }
    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') throw unauthorized(c, `this server needs a token: ${SET_TOKEN_HINT}`);
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (token === undefined) throw unauthorized(c, `the Authorization header is not "Bearer <token>": ${SET_TOKEN_HINT}`);
    const developer = tokens.verify(token);
    // Never echo the presented token: it may be a real one pasted into the wrong server.
    if (!developer) throw unauthorized(c, `the token was not accepted (mistyped, revoked or from another server): ${SET_TOKEN_HINT}`);
    c.set('developer', developer);
    await next();
  };
}
