import { mkdirSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { exposureRefusal } from './auth/middleware.js';
import { ConfigError, loadConfig, type Config } from './config/settings.js';
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from './logger.js';
import { removeRestoreLeftovers } from './backup/leftovers.js';
import { interruptedMessage, interruptedRestore } from './backup/restore-journal.js';
import { createServices } from './services.js';
import { embeddedStoreFile } from './stores/create-store.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from './storage/data-dir-lock.js';
import { EmbedderMismatchError } from './stores/vector-store.js';

/** LOG_LEVEL wins over logging.level, even with a settings.yaml that does not mention it. */
function logLevelOf(config: Config): LogLevel {
  const fromEnv = config.env.LOG_LEVEL?.trim();
  if (!fromEnv) return config.settings.logging.level;
  if (!isLogLevel(fromEnv)) throw new ConfigError(`LOG_LEVEL: "${fromEnv}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  return fromEnv;
}

/** `npm start`: serve at once, index the library in the background. */
async function main(): Promise<void> {
  let logger;
  let services;
  let lock: DataDirLock;
  try {
    const config = loadConfig();
    logger = createLogger(logLevelOf(config));
    mkdirSync(config.paths.data, { recursive: true });
    // One server per DATA_DIR: two would each keep their own in-memory state over one store.
    lock = lockDataDir(config.paths.data, 'an AI Library server');
    const interrupted = interruptedRestore(config.paths.data);
    if (interrupted) {
      console.error(`ai-library: ${interruptedMessage(interrupted)}`);
      lock.release();
      process.exit(1);
    }
    await removeRestoreLeftovers(config.paths.data, embeddedStoreFile(config));
    services = await createServices(config);
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      console.error(`ai-library: ${e.message}; stop it first, or give this server its own DATA_DIR`);
      process.exit(1);
    }
    if (e instanceof ConfigError || e instanceof EmbedderMismatchError) {
      console.error(`ai-library: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
  const { host, port } = services.config.settings.api;
  const refusal = exposureRefusal(host, services.tokens.count());
  if (refusal) {
    console.error(`ai-library: ${refusal}`);
    await services.close();
    process.exit(1);
  }
  const app = createApp(services, logger);
  const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
    logger.info({ url: `http://${host}:${info.port}`, store: services.store.kind, embedder: services.embedder.id }, 'AI Library server listening');
  });
  // Searches scan exactly (slower, never wrong) until the saved dense index is loaded or rebuilt.
  const indexStarted = performance.now();
  services.store
    .prepareIndex?.()
    .then(() => logger.info({ seconds: Number(((performance.now() - indexStarted) / 1000).toFixed(2)) }, 'dense index ready'))
    .catch((err: unknown) => logger.warn({ err }, 'dense index unavailable; dense search scans exactly'));
  server.on('error', (err: NodeJS.ErrnoException) => {
    const hint = err.code === 'EADDRINUSE' ? `port ${port} is in use; stop the other server or set API_PORT` : err.message;
    console.error(`ai-library: cannot listen on ${host}:${port}: ${hint}`);
    process.exit(1);
  });

  // How each job this server runs (startup index, API requests) ends; the CLI's own jobs are in their records.
  services.jobs.subscribe((event) => {
    const { job } = event;
    const fields = { job_id: job.id, kind: job.kind, path: job.path, requested_by: job.requested_by };
    if (event.type === 'warning') logger.warn(fields, event.message);
    if (event.type !== 'state') return;
    if (job.state === 'done') logger.info({ ...fields, summary: job.summary }, 'index job done');
    else if (job.state === 'failed' || job.state === 'cancelled') logger.warn({ ...fields, summary: job.summary, error: job.error }, `index job ${job.state}`);
  });
  let closing = false;
  // The startup index is a job like any other: visible at GET /api/library/jobs, cancellable, one full run at a time.
  // It waits for the taxonomy: with the embedder down on a fresh DATA_DIR every file would fail, so it runs
  // once the background retry has embedded the category descriptions (at once when they were cached).
  services.classifier.prepare().catch(() => logger.warn({ taxonomy: services.classifier.status.detail }, 'taxonomy not ready; indexing starts when the embedder answers'));
  void services.taxonomyReady.then(() => {
    if (closing) return;
    services.jobs
      .submit({ kind: 'all', requestedBy: 'startup' })
      .catch((err: unknown) => logger.error({ err }, 'background indexing could not start'));
  });

  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      void services.close().finally(() => {
        lock.release();
        process.exit(0);
      });
    });
    // Open keep-alive connections must not hold the process forever.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
