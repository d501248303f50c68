import { ConfigError, loadConfig } from '../config/settings.js';
import { HttpError } from '../http/errors.js';
import { LibraryPathError } from '../indexing/library-paths.js';
import { ProviderUnavailableError } from '../reliability/circuit-breaker.js';
import { createServices, type Services } from '../services.js';
import { EmbedderMismatchError, StoreUnavailableError } from '../stores/vector-store.js';

/** Runs a CLI action with the server's services; known failures print one line, not a stack. */
export async function withServices(action: (services: Services) => Promise<number>): Promise<number> {
  let services: Services | undefined;
  try {
    services = await createServices(loadConfig());
    return await action(services);
  } catch (e) {
    // Errors written for people (HttpError carries the API's own messages) print as one line.
    const known = [ConfigError, EmbedderMismatchError, StoreUnavailableError, LibraryPathError, ProviderUnavailableError, HttpError];
    if (known.some((k) => e instanceof k) && e instanceof Error) {
      console.error(`ai-library: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await services?.close();
  }
}
