import { tryGetContext } from 'hono/context-storage';
import type { AppEnv, Developer } from '../http/app-env.js';

/**
 * Whose tokens these are. The embedder is shared by every request and deep
 * below the routes, so the developer is read from the request's Context, which
 * hono/context-storage carries through awaits (app.ts installs it), instead of
 * travelling through every signature between a route and the Mistral call.
 */

/** Work outside any request: "server" for the server's own (startup indexing, /health probes), "cli" for the command line. */
let processDeveloper = 'server';

/** Names whoever runs outside a request in this process (the CLI calls it with "cli"). */
export function runningAs(name: string): void {
  processDeveloper = name;
}

/**
 * The developer to charge for work happening now. Read when tokens are
 * recorded, not when the request starts, so it names whoever the auth
 * middleware settled on; a request it did not cover (/health) is the server's.
 */
export function currentDeveloper(): string {
  const developer: Developer | undefined = tryGetContext<AppEnv>()?.var.developer;
  return developer?.name ?? processDeveloper;
}
