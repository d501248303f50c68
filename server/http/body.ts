import type { Context } from 'hono';
import type { ZodType, ZodTypeDef } from 'zod';
import { DomainError } from '../errors/domain-error.js';
import { describeZodError } from './errors.js';

/** Reads a JSON body: 415 for another media type, 400 for bad JSON or a bad field. */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new DomainError('unsupported_media_type', 'send the body as JSON with the header Content-Type: application/json');
  }
  const text = await c.req.text();
  if (text.trim() === '') throw new DomainError('invalid_json', 'the body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : 'parse error';
    throw new DomainError('invalid_json', `the body is not valid JSON (${detail})`);
  }
}

export async function readBody<T>(c: Context, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T> {
  return parseWith(schema, await readJson(c));
}

export function parseWith<T>(schema: ZodType<T, ZodTypeDef, unknown>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('invalid_request', describeZodError(parsed.error));
  return parsed.data;
}
