import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { AskRequestSchema } from '../../shared/api-schemas.js';
import { ANTHROPIC_KEY_HEADER, type AskStreamEvent, type ConversationDeleted, type ConversationList } from '../../shared/api-types.js';
import { AnswerError, toAnswerError, type AskContext } from '../answers/ask-service.js';
import { ConversationNotFoundError } from '../answers/conversations.js';
import type { AppEnv } from '../http/app-env.js';
import { requireJson, validJson } from '../http/body.js';
import { errorBody, STATUS_BY_CODE, toHttpError } from '../http/errors.js';
import { checkQueryLength } from '../http/rate-limit.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';

function wantsEventStream(c: Context): boolean {
  return /\btext\/event-stream\b/i.test(c.req.header('accept') ?? '');
}

function answerErrorResponse(c: Context, err: AnswerError): Response {
  if (err.retryAfter) c.header('Retry-After', err.retryAfter);
  const body = err.partial ? { ...errorBody(err.code, err.message), partial: err.partial } : errorBody(err.code, err.message);
  return c.json(body, STATUS_BY_CODE[err.code]);
}

/** Internal failures keep their detail in the log; the client gets the generic message. */
function logIfInternal(logger: Logger | undefined, err: AnswerError, route: string): void {
  if (err.code === 'internal') logger?.error({ err: err.cause ?? err, route }, 'answer failed');
}

/**
 * A failure after the stream began, for its `error` event: store, embedder and
 * disk failures (saving the conversation) keep their API meaning through the
 * app's one mapper instead of a bare `internal`.
 */
function streamFailure(e: unknown, services: Services): AnswerError {
  if (e instanceof AnswerError) return e;
  const mapped = toHttpError(e, services.disk);
  return mapped.code === 'internal' ? toAnswerError(e) : new AnswerError(mapped.code, mapped.message, null, null, { cause: e });
}

/**
 * POST /api/query/ask (JSON, or SSE with `Accept: text/event-stream`), mounted
 * at /api/query. The developer's key header is read here and handed on;
 * headers are never logged.
 */
export function answerRoutes(services: Services, logger?: Logger) {
  return new Hono<AppEnv>().post('/ask', requireJson, validJson(AskRequestSchema), async (c) => {
    const req = c.req.valid('json');
    checkQueryLength(req.question, 'question', services.config.settings.limits);
    const controller = new AbortController();
    // A client that hangs up should stop Claude too (node-server aborts only on premature close).
    c.req.raw.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const ctx: AskContext = { developer: c.get('developer').name, apiKey: c.req.header(ANTHROPIC_KEY_HEADER), signal: controller.signal };
    const events = services.answers.stream(req, ctx);

    if (!wantsEventStream(c)) {
      try {
        for await (const event of events) if (event.event === 'done') return c.json(event.data);
        throw new AnswerError('internal', 'the answer ended without a result; the server log has the details');
      } catch (e) {
        if (!(e instanceof AnswerError)) throw e;
        logIfInternal(logger, e, c.req.path);
        return answerErrorResponse(c, e);
      }
    }

    // Hold the stream back until the first text (or the end): a failure before
    // any text still gets a real status, and a 429 its Retry-After header.
    const held: AskStreamEvent[] = [];
    try {
      for (;;) {
        const step = await events.next();
        if (step.done) break;
        held.push(step.value);
        if (step.value.event !== 'sources') break;
      }
    } catch (e) {
      if (!(e instanceof AnswerError)) throw e;
      logIfInternal(logger, e, c.req.path);
      return answerErrorResponse(c, e);
    }

    return streamSSE(c, async (stream) => {
      stream.onAbort(() => controller.abort());
      const send = (event: AskStreamEvent) => stream.writeSSE({ event: event.event, data: JSON.stringify(event.data) });
      for (const event of held) await send(event);
      try {
        for await (const event of events) await send(event);
      } catch (e) {
        const err = streamFailure(e, services);
        logIfInternal(logger, err, c.req.path);
        await send({ event: 'error', data: { code: err.code, message: err.message, partial: err.partial } });
      }
    });
  });
}

/**
 * The conversation endpoints, mounted at /api/conversations. Conversations are
 * per developer: another developer's id answers 404, as if it did not exist.
 */
export function conversationRoutes(services: Services) {
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const body: ConversationList = { conversations: await services.conversations.list(c.get('developer').name) };
      return c.json(body);
    })
    .get('/:id', async (c) => {
      const id = c.req.param('id');
      const conversation = await services.conversations.get(id, c.get('developer').name);
      if (!conversation) throw new ConversationNotFoundError(id);
      return c.json(conversation);
    })
    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (!(await services.conversations.delete(id, c.get('developer').name))) throw new ConversationNotFoundError(id);
      const body: ConversationDeleted = { deleted: id };
      return c.json(body);
    });
}
