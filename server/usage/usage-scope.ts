import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import { LOCAL_DEVELOPER, type AppEnv, type Developer } from '../http/app-env.js';

/**
 * Whose tokens these are. The embedder is shared by every request and deep
 * below the routes, so the developer travels with the request's async context
 * instead of through every signature between a route and the Mistral call.
 */
const scope = new AsyncLocalStorage<() => string>();

/** Work outside any request: "server" for the server's own (startup indexing), "cli" for the command line. */
let processDeveloper = 'server';

/** Names whoever runs outside a request in this process (the CLI calls it with "cli"). */
export function runningAs(name: string): void {
  processDeveloper = name;
}

export function withDeveloper<T>(who: () => string, work: () => T): T {
  return scope.run(who, work);
}

/** The developer to charge for work happening now. */
export function currentDeveloper(): string {
  const who = scope.getStore();
  return who ? who() : processDeveloper;
}

/**
 * Runs every request inside a usage scope. The name is read when tokens are
 * recorded, not when the request starts, so this may sit before or after the
 * auth middleware that sets `developer`.
 */
export function usageScope(): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    withDeveloper(() => {
      // Unset when a route runs without the auth middleware (a bare app in a test).
      const developer: Developer | undefined = c.get('developer');
      return developer?.name ?? LOCAL_DEVELOPER.name;
    }, next);
}
