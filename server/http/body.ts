import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler } from 'hono';
import type { ZodError, ZodType, ZodTypeDef } from 'zod';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from './app-env.js';
import { describeZodError } from './errors.js';

/**
 * 415 for another media type, 400 for an empty or unreadable body. Runs before
 * `validJson`: Hono's validator reads a body of another type as `{}` and bad
 * JSON as its own 400, neither of which says what to send. The text is cached
 * by the request, so the validator does not read the body twice.
 */
export const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new DomainError('unsupported_media_type', 'send the body as JSON with the header Content-Type: application/json');
  }
  const text = await c.req.text();
  if (text.trim() === '') throw new DomainError('invalid_json', 'the body is empty; send a JSON object');
  try {
    JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : 'parse error';
    throw new DomainError('invalid_json', `the body is not valid JSON (${detail})`);
  }
  await next();
};

/** A message for a failed validation; null leaves it to `describeZodError`. */
export type DescribeInvalid = (raw: unknown, error: ZodError) => string | null;

/**
 * The validation failure as the API's 400 (`invalid_request` through
 * `app.onError`, so it has the one error body): zValidator's own answer would
 * be zod's raw result.
 */
function invalidRequest(describe?: DescribeInvalid) {
  return (result: { success: true } | { success: false; error: ZodError; data: unknown }): void => {
    if (!result.success) throw new DomainError('invalid_request', describe?.(result.data, result.error) ?? describeZodError(result.error));
  };
}

/** Validates the JSON body (after `requireJson`); the handler reads it with `c.req.valid('json')`. */
export function validJson<S extends ZodType<unknown, ZodTypeDef, unknown>>(schema: S, describe?: DescribeInvalid) {
  return zValidator('json', schema, invalidRequest(describe));
}

/** Validates the query string; the handler reads it with `c.req.valid('query')`. */
export function validQuery<S extends ZodType<unknown, ZodTypeDef, unknown>>(schema: S) {
  return zValidator('query', schema, invalidRequest());
}

/** Parses a value that is not an HTTP body (an MCP tool's arguments) with the same 400 as the routes. */
export function parseWith<T>(schema: ZodType<T, ZodTypeDef, unknown>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('invalid_request', describeZodError(parsed.error));
  return parsed.data;
}
