import { tryGetContext } from 'hono/context-storage';
import pino from 'pino';
import type { AppEnv } from './http/app-env.js';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Keys that may carry a credential: the Authorization header (server tokens),
 * the developer's Anthropic key header, and the usual key/token fields. Both
 * header spellings, since Node lowercases headers but a Headers copy or a
 * hand-built object may not.
 */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'x-anthropic-api-key',
  'X-Anthropic-Api-Key',
  'x-api-key',
  'cookie',
  'api_key',
  'apiKey',
  'token',
];
/** pino's `*` matches one level only; this many levels covers `req.headers.x` inside an error's `config`. */
const REDACT_DEPTH = 5;

/** Every SECRET_KEYS entry at the top level and up to REDACT_DEPTH levels down. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((key) =>
  Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) => `${'*.'.repeat(depth).replace(/\.$/, '')}["${key}"]`),
);

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Structured JSON logs (pino: fast, and its redaction keeps secrets out). Any
 * field that could carry a credential is censored wherever it appears.
 * `destination` lets tests capture the output.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // hono/context-storage carries the request's Context through awaits, so a line
    // logged deep inside a service (an indexing failure, an answer error) names
    // its request without every call site passing it along.
    mixin: () => {
      const id: string | undefined = tryGetContext<AppEnv>()?.var.requestId;
      return id === undefined ? {} : { request_id: id };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
