import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { HttpError, errorBody, sendError, toHttpError } from './http/errors.js';
import type { Logger } from './logger.js';
import { answerRoutes } from './routes/answers.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { libraryRoutes } from './routes/library.js';
import { queryRoutes } from './routes/query.js';
import { taxonomyRoutes } from './routes/taxonomy.js';
import type { Services } from './services.js';

/** The HTTP surface: routes validate and delegate; everything else lives in services. */
export function createApp(services: Services, logger: Logger): Hono {
  const app = new Hono();
  const { api } = services.config.settings;
  app.use('*', secureHeaders());
  app.use('/api/*', cors({ origin: api.cors_origins }));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: api.max_body_bytes,
      onError: (c) =>
        c.json(errorBody('payload_too_large', `the body is larger than ${api.max_body_bytes} bytes (api.max_body_bytes); send smaller files or raise the limit`), 413),
    }),
  );
  app.route('/', healthRoutes(services));
  app.route('/api/query', queryRoutes(services));
  app.route('/api/library', libraryRoutes(services));
  app.route('/api/admin', adminRoutes(services));
  app.route('/api/library', taxonomyRoutes(services));
  app.route('/', answerRoutes(services, logger));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}; see README "HTTP API"`), 404));
  app.onError((err, c) => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500 && !(err instanceof HttpError)) logger.error({ err, route: c.req.path }, 'request failed');
    return sendError(c, httpError);
  });
  return app;
}
