import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config/settings.js';
import { createLogger } from './logger.js';
import { createServices } from './services.js';
import { EmbedderMismatchError } from './stores/vector-store.js';

/** `npm start`: serve at once, index the library in the background. */
async function main(): Promise<void> {
  const logger = createLogger();
  let services;
  try {
    const config = loadConfig();
    services = await createServices(config);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof EmbedderMismatchError) {
      console.error(`ai-library: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
  const { host, port } = services.config.settings.api;
  const app = createApp(services, logger);
  const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
    logger.info({ url: `http://${host}:${info.port}`, store: services.store.kind, embedder: services.embedder.id }, 'AI Library server listening');
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    const hint = err.code === 'EADDRINUSE' ? `port ${port} is in use; stop the other server or set API_PORT` : err.message;
    console.error(`ai-library: cannot listen on ${host}:${port}: ${hint}`);
    process.exit(1);
  });

  services.indexer
    .indexAll({ contributor: null })
    .then(({ summary }) => logger.info({ summary }, 'library indexed'))
    .catch((err: unknown) => logger.error({ err }, 'background indexing failed'));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      void services.close().finally(() => process.exit(0));
    });
    // Open keep-alive connections must not hold the process forever.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
