import { loadConfig } from '../config/settings.js';
import { DomainError } from '../errors/domain-error.js';
import { toHttpError } from '../http/errors.js';
import { createServices, type Services } from '../services.js';

/** Runs a CLI action with the server's services; known failures print one line, not a stack. */
export async function withServices(action: (services: Services) => Promise<number>): Promise<number> {
  let services: Services | undefined;
  try {
    services = await createServices(loadConfig());
    return await action(services);
  } catch (e) {
    // The API's own mapper: an error written for people prints its message as one line, as the
    // API would answer it; anything else is a bug and keeps its stack.
    const failure = toHttpError(e, services?.disk);
    if (failure.code === 'internal' && !(e instanceof DomainError)) throw e;
    console.error(`ai-library: ${failure.message}`);
    return 1;
  } finally {
    await services?.close();
  }
}
