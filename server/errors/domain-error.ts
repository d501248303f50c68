import type { ErrorCode } from '../../shared/error-codes.js';

/**
 * A failure written for the client: a stable code from `shared/error-codes.ts`
 * and a message that names the thing and the fix. Domain code (answers/,
 * usage/, auth/, …) throws these without knowing HTTP; `server/http/errors.ts`
 * turns the code into a status, for the API, the MCP tools and the CLI alike.
 * This module imports nothing from server/, so every layer may use it.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
