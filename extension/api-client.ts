/**
 * The one client for the AI Library server. It does not import `vscode`:
 * settings and secrets are injected, so the tests run it against a real server
 * and the extension hands it SecretStorage.
 *
 * The JSON routes are called through `hono/client`, typed by the server's
 * route table (`AppType`, a type-only import: no server code is bundled), so a
 * renamed route or field fails to compile here. Every response is still
 * checked by its schema from shared/api-schemas.ts: the server at the
 * configured URL may be another version, or not an AI Library server at all.
 */
import { hc } from 'hono/client';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ZodType, ZodTypeDef } from 'zod';
import type { AppType } from '../server/app.js';
import {
  AskResponseSchema,
  AskStreamDataSchemas,
  ConversationDeletedSchema,
  ConversationListSchema,
  ConversationSchema,
  DocumentResponseSchema,
  ErrorBodySchema,
  HealthResponseSchema,
  IndexResponseSchema,
  PublicHealthResponseSchema,
  SearchResponseSchema,
  StatsResponseSchema,
  TaxonomyResponseSchema,
} from '../shared/api-schemas.js';
import {
  ANTHROPIC_KEY_HEADER,
  type AskRequest,
  type AskResponse,
  type AskStreamEvent,
  type Conversation,
  type ConversationSummary,
  type DocumentResponse,
  type HealthResponse,
  type IndexRequest,
  type IndexResponse,
  type SearchRequest,
  type SearchResponse,
  type SimilarRequest,
  type StatsResponse,
  type TaxonomyResponse,
} from '../shared/api-types.js';
import { isErrorCode, type ErrorCode } from '../shared/error-codes.js';
import { isRecord } from '../shared/guards.js';
import { parseRetryAfter } from '../shared/retry-after.js';

export const SECRET_SERVER_TOKEN = 'aiLibrary.serverToken';
export const SECRET_ANTHROPIC_KEY = 'aiLibrary.anthropicApiKey';
export type SecretName = typeof SECRET_SERVER_TOKEN | typeof SECRET_ANTHROPIC_KEY;

export interface ClientSettings {
  serverUrl: string;
  timeoutMs: number;
}

export interface ClientDeps {
  /** Read on every request, so a changed setting applies without a reload. */
  settings: () => ClientSettings;
  secret: (name: SecretName) => PromiseLike<string | undefined>;
  fetch?: typeof fetch;
  /** Told the outcome of every request (extension/connection-state.ts keeps the one connection state). */
  observe?: (outcome: RequestOutcome) => void;
}

/**
 * Whether a request got a 2xx, else the error it ended with. `authenticated`:
 * the route sits behind the server token (every /api route; /health does not),
 * so its answer says whether the token is accepted.
 */
export type RequestOutcome = { ok: true; authenticated: boolean } | { ok: false; authenticated: boolean; error: ApiError };

/**
 * Failures the client names itself: no HTTP answer (`unreachable`, `timeout`,
 * `aborted`, `bad_server_url`), an answer it cannot use (`bad_response`,
 * `stream_ended`), or an error answer without a code this version lists
 * (`http_error`: a proxy's error page, or a newer server's new code).
 */
export const CLIENT_ERROR_CODES = ['unreachable', 'timeout', 'aborted', 'bad_server_url', 'bad_response', 'stream_ended', 'http_error'] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
/** What `extension/errors.ts` switches on: the server's codes (shared/error-codes.ts) and the client's own. */
export type ApiErrorCode = ErrorCode | ClientErrorCode;

const CLIENT_CODES: ReadonlySet<string> = new Set(CLIENT_ERROR_CODES);

function isClientErrorCode(code: string): code is ClientErrorCode {
  return CLIENT_CODES.has(code);
}

/** A code from the wire (an error body, a stream's error event) as one this client switches on. */
export function toApiErrorCode(code: string): ApiErrorCode {
  return isErrorCode(code) || isClientErrorCode(code) ? code : 'http_error';
}

/** Every failure the client reports. `status` 0 means no usable HTTP answer. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** Turns a non-2xx response into an ApiError, using the server's `{error:{code,message}}` when present. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  const retryAfter = retryAfterMs === null ? null : Math.ceil(retryAfterMs / 1000);
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The body is optional for an error; the status alone still says something.
  }
  const body = ErrorBodySchema.safeParse(parseJson(text));
  if (body.success) return new ApiError(res.status, toApiErrorCode(body.data.error.code), body.data.error.message, retryAfter);
  const reason = res.statusText || 'error';
  return new ApiError(res.status, 'http_error', `the server answered ${res.status} ${reason}`, retryAfter);
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Checks one message of an answer stream by its event's schema; unknown events (pings) give null. */
export function toAskStreamEvent(msg: EventSourceMessage): AskStreamEvent | null {
  const name = msg.event ?? 'message';
  if (name !== 'sources' && name !== 'delta' && name !== 'done' && name !== 'error') return null;
  const data = parseJson(msg.data);
  const bad = (what: string) => new ApiError(0, 'bad_response', `the server sent ${what} "${name}" event; update the server or report it`);
  if (data === null) throw bad('an unreadable (not JSON)');
  switch (name) {
    case 'sources': {
      const parsed = AskStreamDataSchemas.sources.safeParse(data);
      if (!parsed.success) throw bad('a malformed');
      return { event: name, data: parsed.data };
    }
    case 'delta': {
      const parsed = AskStreamDataSchemas.delta.safeParse(data);
      if (!parsed.success) throw bad('a malformed');
      return { event: name, data: parsed.data };
    }
    case 'done': {
      const parsed = AskStreamDataSchemas.done.safeParse(data);
      if (!parsed.success) throw bad('a malformed');
      return { event: name, data: parsed.data };
    }
    case 'error': {
      // Whatever an error event holds, it ends the answer: say so even when its fields are odd.
      const parsed = AskStreamDataSchemas.error.safeParse(data);
      if (parsed.success) return { event: name, data: parsed.data };
      const message = isRecord(data) && typeof data.message === 'string' ? data.message : 'the server reported an error while answering';
      return { event: name, data: { code: 'http_error', message, partial: null } };
    }
  }
}

/**
 * Reads an event stream's body as its messages with `eventsource-parser` (the
 * WHATWG rules: events and characters split anywhere across chunks, CRLF,
 * comments, multi-line data).
 */
async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const ready: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => ready.push(message) });
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  let finished = false;
  try {
    while (!finished) {
      const { value, done } = await reader.read();
      finished = done;
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      yield* ready.splice(0);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

type Api = ReturnType<typeof hc<AppType>>;

/** What every call needs: its headers and the signal that ends it. */
interface CallInit {
  headers: Record<string, string>;
  init: { signal: AbortSignal };
}

interface CallOptions {
  signal?: AbortSignal;
  /** False for /health, which is open to callers without a token. */
  authenticated?: boolean;
  headers?: Record<string, string>;
}

/** Streams may pause while the model thinks; only this long a silence counts as a dead connection. */
const MIN_STREAM_IDLE_MS = 60_000;

export class ApiClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly deps: ClientDeps) {
    this.fetchImpl = deps.fetch ?? ((input, init) => fetch(input, init));
  }

  get serverUrl(): string {
    return this.deps.settings().serverUrl;
  }

  private baseUrl(): string {
    const raw = this.deps.settings().serverUrl.trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ApiError(0, 'bad_server_url', `aiLibrary.serverUrl "${raw}" is not a URL; set it to e.g. http://127.0.0.1:8000 in Settings`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ApiError(0, 'bad_server_url', `aiLibrary.serverUrl "${raw}" must start with http:// or https://; fix it in Settings`);
    }
    // A base path (https://host/ai-library) is kept: the client joins routes onto it.
    return raw.replace(/\/+$/, '');
  }

  /** The typed client for the current server URL (read per call, like every setting). */
  private api(base: string): Api {
    return hc<AppType>(base, { fetch: this.fetchImpl });
  }

  private async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    const token = await this.deps.secret(SECRET_SERVER_TOKEN);
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  /** Sends a request and returns the response once its headers arrived; non-2xx becomes ApiError. */
  private async send(
    call: (api: Api, init: CallInit) => Promise<Response>,
    options: CallOptions,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<{ res: Response; base: string }> {
    const authenticated = options.authenticated ?? true;
    try {
      const base = this.baseUrl();
      const init: CallInit = { headers: await this.headers(options.headers), init: { signal } };
      let res: Response;
      try {
        res = await call(this.api(base), init);
      } catch (err) {
        throw this.transportError(err, base, timeoutMs, options.signal);
      }
      if (!res.ok) throw await errorFromResponse(res);
      this.deps.observe?.({ ok: true, authenticated });
      return { res, base };
    } catch (err) {
      if (err instanceof ApiError) this.deps.observe?.({ ok: false, authenticated, error: err });
      throw err;
    }
  }

  private transportError(err: unknown, base: string, timeoutMs: number, userSignal?: AbortSignal): ApiError {
    if (err instanceof ApiError) return err;
    if (userSignal?.aborted) return new ApiError(0, 'aborted', 'the request was cancelled');
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new ApiError(0, 'timeout', `the AI Library server at ${base} did not answer within ${timeoutMs} ms (aiLibrary.requestTimeoutMs)`);
    }
    const cause = err instanceof Error && isRecord(err.cause) && typeof err.cause.code === 'string' ? ` (${err.cause.code})` : '';
    return new ApiError(0, 'unreachable', `AI Library server not reachable at ${base}${cause}`);
  }

  /** A JSON request bounded by aiLibrary.requestTimeoutMs, body included, its answer checked by `schema`. */
  private async json<T>(
    schema: ZodType<T, ZodTypeDef, unknown>,
    call: (api: Api, init: CallInit) => Promise<Response>,
    options: CallOptions = {},
  ): Promise<T> {
    const { timeoutMs } = this.deps.settings();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const { res, base } = await this.send(call, options, signal, timeoutMs);
    const route = new URL(res.url || base).pathname;
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      if (timeout.aborted || options.signal?.aborted) throw this.transportError(err, base, timeoutMs, options.signal);
      throw new ApiError(0, 'bad_response', `${route} answered with something that is not JSON; is aiLibrary.serverUrl (${base}) an AI Library server?`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new ApiError(0, 'bad_response', `${route} answered with an unexpected shape; is the server at ${base} an AI Library server of a matching version?`);
    }
    return parsed.data;
  }

  async health(signal?: AbortSignal): Promise<HealthResponse> {
    // The detail first: a union keeps the first schema that passes, and {status} alone would pass the public one.
    const value = await this.json(HealthResponseSchema.or(PublicHealthResponseSchema), (api, init) => api.health.$get(undefined, init), {
      signal,
      authenticated: false,
    });
    // A server with tokens answers only {status} to a caller without a valid one.
    const detail = HealthResponseSchema.safeParse(value);
    if (!detail.success) throw new ApiError(401, 'unauthorized', '/health shows its detail only with a valid server token');
    return detail.data;
  }

  stats(signal?: AbortSignal): Promise<StatsResponse> {
    return this.json(StatsResponseSchema, (api, init) => api.api.library.stats.$get(undefined, init), { signal });
  }

  search(req: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json(SearchResponseSchema, (api, init) => api.api.query.search.$post({ json: req }, init), { signal });
  }

  similar(req: SimilarRequest, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json(SearchResponseSchema, (api, init) => api.api.query.similar.$post({ json: req }, init), { signal });
  }

  index(req: IndexRequest, signal?: AbortSignal): Promise<IndexResponse> {
    // hono/client reads a last path segment "index" as its parent route (`client.index` is "/"),
    // so this one call puts the segment back on the URL the typed call built.
    const withIndexSegment: typeof fetch = (input, init) => this.fetchImpl(typeof input === 'string' ? `${input}/index` : input, init);
    return this.json(IndexResponseSchema, (api, init) => api.api.library.index.$post({ json: req }, { ...init, fetch: withIndexSegment }), { signal });
  }

  taxonomy(signal?: AbortSignal): Promise<TaxonomyResponse> {
    return this.json(TaxonomyResponseSchema, (api, init) => api.api.library.taxonomy.$get(undefined, init), { signal });
  }

  document(filePath: string, signal?: AbortSignal): Promise<DocumentResponse> {
    return this.json(DocumentResponseSchema, (api, init) => api.api.library.documents.$get({ query: { path: filePath } }, init), { signal });
  }

  async conversations(signal?: AbortSignal): Promise<ConversationSummary[]> {
    const body = await this.json(ConversationListSchema, (api, init) => api.api.conversations.$get(undefined, init), { signal });
    return body.conversations;
  }

  conversation(id: string, signal?: AbortSignal): Promise<Conversation> {
    return this.json(ConversationSchema, (api, init) => api.api.conversations[':id'].$get({ param: { id } }, init), { signal });
  }

  async deleteConversation(id: string, signal?: AbortSignal): Promise<void> {
    await this.json(ConversationDeletedSchema, (api, init) => api.api.conversations[':id'].$delete({ param: { id } }, init), { signal });
  }

  private async askHeaders(accept: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept };
    const key = await this.deps.secret(SECRET_ANTHROPIC_KEY);
    // Only /ask ever sees the Anthropic key; the server forwards it and never stores it.
    if (key) headers[ANTHROPIC_KEY_HEADER] = key;
    return headers;
  }

  async ask(req: AskRequest, signal?: AbortSignal): Promise<AskResponse> {
    const headers = await this.askHeaders('application/json');
    return this.json(AskResponseSchema, (api, init) => api.api.query.ask.$post({ json: req }, init), { signal, headers });
  }

  /**
   * Streams an answer. Ends after `done` or `error`; a stream that closes before
   * either yields a synthetic `error` so the caller keeps the partial text and
   * says what happened. Abort `signal` to stop (the stop button).
   */
  async *askStream(req: AskRequest, signal?: AbortSignal): AsyncGenerator<AskStreamEvent> {
    const { timeoutMs } = this.deps.settings();
    const idleMs = Math.max(timeoutMs, MIN_STREAM_IDLE_MS);
    const controller = new AbortController();
    const onUserAbort = () => controller.abort();
    if (signal?.aborted) throw new ApiError(0, 'aborted', 'the request was cancelled');
    signal?.addEventListener('abort', onUserAbort, { once: true });
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, ms);
    };
    let base = this.serverUrl;
    try {
      arm(timeoutMs);
      const headers = await this.askHeaders('text/event-stream');
      const sent = await this.send((api, init) => api.api.query.ask.$post({ json: req }, init), { signal, headers }, controller.signal, timeoutMs);
      const { res } = sent;
      base = sent.base;
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // A server without streaming answers JSON; replay it as the same events.
        arm(timeoutMs);
        const body = AskResponseSchema.safeParse(await res.json());
        if (!body.success) throw new ApiError(0, 'bad_response', `the answer came with an unexpected shape; is the server at ${base} an AI Library server?`);
        const answer = body.data;
        yield { event: 'sources', data: { sources: answer.sources, conversation_id: answer.conversation_id, mode: answer.mode } };
        if (answer.answer) yield { event: 'delta', data: { text: answer.answer } };
        yield { event: 'done', data: answer };
        return;
      }
      if (!res.body) throw new ApiError(0, 'bad_response', 'the server sent an empty answer stream');
      arm(idleMs);
      for await (const msg of readEvents(res.body)) {
        arm(idleMs);
        const ev = toAskStreamEvent(msg);
        if (!ev) continue;
        yield ev;
        if (ev.event === 'done' || ev.event === 'error') return;
      }
      yield {
        event: 'error',
        data: { code: 'stream_ended', message: 'the server closed the answer stream before it finished; the partial answer is kept', partial: null },
      };
    } catch (err) {
      if (err instanceof ApiError && err.code !== 'unreachable') throw err;
      if (signal?.aborted) throw new ApiError(0, 'aborted', 'the request was cancelled');
      if (timedOut) throw new ApiError(0, 'timeout', `the AI Library server at ${base} went silent for ${Math.round(idleMs / 1000)} s while answering (aiLibrary.requestTimeoutMs)`);
      throw err instanceof ApiError ? err : new ApiError(0, 'unreachable', `the connection to the AI Library server at ${base} broke while answering`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onUserAbort);
      controller.abort();
    }
  }
}
