import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, Developer } from '../http/app-env.js';
import { DomainError } from '../errors/domain-error.js';

/**
 * The caller, who must be an admin to do `action` (e.g. "a full re-index").
 * Throws `forbidden` so the app's error handler answers it like any other API error.
 */
export function requireAdmin(c: Context<AppEnv>, action: string): Developer {
  const developer = c.get('developer');
  if (!developer.admin) {
    throw new DomainError(
      'forbidden',
      `${action} needs an admin token, and "${developer.name}" is not an admin; ask an operator to do it, or for a token created with "npm run token -- create <name> --admin"`,
    );
  }
  return developer;
}

/** May `developer` remove or overwrite a document that `contributor` added? Admins may touch anything. */
export function mayModify(developer: Developer, contributor: string | null): boolean {
  return developer.admin || (contributor !== null && contributor === developer.name);
}

/** For whole route prefixes (`/api/admin/*`): every route under it, present and future, is admin-only. */
export function adminOnly(action: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requireAdmin(c, action);
    await next();
  };
}
