/**
 * The one client for the AI Library server. It does not import `vscode`:
 * settings and secrets are injected, so the unit tests run it against a real
 * local HTTP server and the extension hands it SecretStorage.
 */
import type { ANTHROPIC_KEY_HEADER as SHARED_KEY_HEADER, AnswerMode, AnswerSource, AskRequest, AskResponse, AskStreamEvent, Conversation, ConversationSummary, DocumentResponse, HealthResponse, PublicHealthResponse, IndexRequest, IndexResponse, SearchRequest, SearchResponse, SimilarRequest, StatsResponse, TaxonomyResponse } from '../shared/api-types.js';
import { isRecord } from '../shared/guards.js';
import { parseRetryAfter } from '../shared/retry-after.js';

/**
 * Typed as the shared constant's literal, so a rename there fails to compile
 * here; a value import would pull zod (shared/api.ts's schemas) into the bundle.
 */
const ANTHROPIC_KEY_HEADER: typeof SHARED_KEY_HEADER = 'x-anthropic-api-key';

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

/** Whether a request got a 2xx, else the error it ended with; `path` without the query. */
export type RequestOutcome = { ok: true; path: string } | { ok: false; path: string; error: ApiError };

/**
 * Every failure the client reports. `status` 0 means no HTTP answer: codes
 * `unreachable`, `timeout`, `aborted`, `bad_server_url`, `bad_response`.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

// Light shape checks: enough to fail with a clear message when the server is an
// older or different service, without duplicating every field of shared/api.ts.
const isSearchResponse = (v: unknown): v is SearchResponse => isRecord(v) && Array.isArray(v.results);
const isIndexResponse = (v: unknown): v is IndexResponse => isRecord(v) && Array.isArray(v.files) && isRecord(v.summary);
const isStats = (v: unknown): v is StatsResponse => isRecord(v) && typeof v.points_count === 'number';
const isPublicHealth = (v: unknown): v is PublicHealthResponse => isRecord(v) && (v.status === 'ok' || v.status === 'degraded');
const isHealth = (v: unknown): v is HealthResponse => isRecord(v) && typeof v.status === 'string' && isRecord(v.store) && isRecord(v.indexing);
const isTaxonomy = (v: unknown): v is TaxonomyResponse => isRecord(v) && Array.isArray(v.categories);
const isDocument = (v: unknown): v is DocumentResponse => isRecord(v) && typeof v.file_path === 'string' && typeof v.content === 'string';
const isSummary = (v: unknown): v is ConversationSummary => isRecord(v) && typeof v.id === 'string';
const isConversation = (v: unknown): v is Conversation => isRecord(v) && typeof v.id === 'string' && Array.isArray(v.history);
const isMode = (v: unknown): v is AnswerMode => v === 'claude' || v === 'extractive';
export const isAskResponse = (v: unknown): v is AskResponse =>
  isRecord(v) && typeof v.answer === 'string' && Array.isArray(v.sources) && typeof v.conversation_id === 'string' && isMode(v.mode);
const isSources = (v: unknown): v is AnswerSource[] => Array.isArray(v) && v.every((s) => isRecord(s) && typeof s.file_path === 'string');

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
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.message === 'string') {
    const code = typeof parsed.error.code === 'string' ? parsed.error.code : `http_${res.status}`;
    return new ApiError(res.status, code, parsed.error.message, retryAfter);
  }
  const reason = res.statusText || 'error';
  return new ApiError(res.status, `http_${res.status}`, `the server answered ${res.status} ${reason}`, retryAfter);
}

export interface SseMessage {
  event: string;
  data: string;
}

/**
 * Reads Server-Sent Events from a byte stream (the WHATWG event-stream format):
 * events and multi-byte characters may be split anywhere across chunks; a final
 * event without its blank line is incomplete and dropped, as the spec says.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let finished = false;
  try {
    while (!finished) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        buffer += decoder.decode();
      } else {
        buffer += decoder.decode(value, { stream: true });
      }
      let start = 0;
      for (;;) {
        let end = start;
        while (end < buffer.length && buffer[end] !== '\n' && buffer[end] !== '\r') end++;
        if (end >= buffer.length) break;
        // A CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (buffer[end] === '\r' && end + 1 >= buffer.length && !finished) break;
        const line = buffer.slice(start, end);
        start = end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let fieldValue = colon === -1 ? '' : line.slice(colon + 1);
        if (fieldValue.startsWith(' ')) fieldValue = fieldValue.slice(1);
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
      }
      buffer = buffer.slice(start);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Checks one SSE message of an answer stream; unknown events (pings) give null. */
export function toAskStreamEvent(msg: SseMessage): AskStreamEvent | null {
  const known = ['sources', 'delta', 'done', 'error'];
  if (!known.includes(msg.event)) return null;
  let data: unknown;
  try {
    data = JSON.parse(msg.data);
  } catch {
    throw new ApiError(0, 'bad_response', `the server sent an unreadable "${msg.event}" event (not JSON); update the server or report it`);
  }
  const bad = () => new ApiError(0, 'bad_response', `the server sent a malformed "${msg.event}" event; update the server or report it`);
  if (!isRecord(data)) throw bad();
  switch (msg.event) {
    case 'sources':
      if (!isSources(data.sources) || typeof data.conversation_id !== 'string' || !isMode(data.mode)) throw bad();
      return { event: 'sources', data: { sources: data.sources, conversation_id: data.conversation_id, mode: data.mode } };
    case 'delta':
      if (typeof data.text !== 'string') throw bad();
      return { event: 'delta', data: { text: data.text } };
    case 'done':
      if (!isAskResponse(data)) throw bad();
      return { event: 'done', data };
    default: {
      const partial = isAskResponse(data.partial) ? data.partial : null;
      const code = typeof data.code === 'string' ? data.code : 'stream_error';
      const message = typeof data.message === 'string' ? data.message : 'the server reported an error while answering';
      return { event: 'error', data: { code, message, partial } };
    }
  }
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
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
    // Joined as strings so a base path (https://host/ai-library) is kept.
    return raw.replace(/\/+$/, '');
  }

  private async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    const token = await this.deps.secret(SECRET_SERVER_TOKEN);
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  /** Sends a request and returns the response once its headers arrived; non-2xx becomes ApiError. */
  private async send(path: string, options: RequestOptions, signal: AbortSignal, timeoutMs: number, userSignal?: AbortSignal): Promise<Response> {
    const route = path.split('?')[0] ?? path;
    try {
      const res = await this.sendUnobserved(path, options, signal, timeoutMs, userSignal);
      this.deps.observe?.({ ok: true, path: route });
      return res;
    } catch (err) {
      if (err instanceof ApiError) this.deps.observe?.({ ok: false, path: route, error: err });
      throw err;
    }
  }

  private async sendUnobserved(path: string, options: RequestOptions, signal: AbortSignal, timeoutMs: number, userSignal?: AbortSignal): Promise<Response> {
    const base = this.baseUrl();
    const headers = await this.headers(options.headers);
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(base + path, {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
    } catch (err) {
      throw this.transportError(err, base, timeoutMs, userSignal);
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
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

  /** A JSON request bounded by aiLibrary.requestTimeoutMs, body included. */
  private async json<T>(path: string, guard: (v: unknown) => v is T, options: RequestOptions = {}): Promise<T> {
    const { timeoutMs } = this.deps.settings();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const res = await this.send(path, options, signal, timeoutMs, options.signal);
    const base = this.baseUrl();
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      if (timeout.aborted || options.signal?.aborted) throw this.transportError(err, base, timeoutMs, options.signal);
      throw new ApiError(0, 'bad_response', `${path} answered with something that is not JSON; is aiLibrary.serverUrl (${base}) an AI Library server?`);
    }
    if (!guard(value)) {
      throw new ApiError(0, 'bad_response', `${path} answered with an unexpected shape; is the server at ${base} an AI Library server of a matching version?`);
    }
    return value;
  }

  async health(signal?: AbortSignal): Promise<HealthResponse> {
    const value = await this.json('/health', isPublicHealth, { signal });
    // A server with tokens answers only {status} to a caller without a valid one.
    if (!isHealth(value)) throw new ApiError(401, 'unauthorized', '/health shows its detail only with a valid server token');
    return value;
  }

  stats(signal?: AbortSignal): Promise<StatsResponse> {
    return this.json('/api/library/stats', isStats, { signal });
  }

  search(req: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json('/api/query/search', isSearchResponse, { method: 'POST', body: req, signal });
  }

  similar(req: SimilarRequest, signal?: AbortSignal): Promise<SearchResponse> {
    return this.json('/api/query/similar', isSearchResponse, { method: 'POST', body: req, signal });
  }

  index(req: IndexRequest, signal?: AbortSignal): Promise<IndexResponse> {
    return this.json('/api/library/index', isIndexResponse, { method: 'POST', body: req, signal });
  }

  taxonomy(signal?: AbortSignal): Promise<TaxonomyResponse> {
    return this.json('/api/library/taxonomy', isTaxonomy, { signal });
  }

  document(filePath: string, signal?: AbortSignal): Promise<DocumentResponse> {
    return this.json(`/api/library/documents?path=${encodeURIComponent(filePath)}`, isDocument, { signal });
  }

  async conversations(signal?: AbortSignal): Promise<ConversationSummary[]> {
    // Accepts a bare array or {conversations: [...]}: the route is still being written.
    const isList = (v: unknown): v is ConversationSummary[] | { conversations: ConversationSummary[] } =>
      (Array.isArray(v) && v.every(isSummary)) || (isRecord(v) && Array.isArray(v.conversations) && v.conversations.every(isSummary));
    const body = await this.json('/api/conversations', isList, { signal });
    return Array.isArray(body) ? body : body.conversations;
  }

  conversation(id: string, signal?: AbortSignal): Promise<Conversation> {
    return this.json(`/api/conversations/${encodeURIComponent(id)}`, isConversation, { signal });
  }

  async deleteConversation(id: string, signal?: AbortSignal): Promise<void> {
    const { timeoutMs } = this.deps.settings();
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await this.send(
      `/api/conversations/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      signal ? AbortSignal.any([signal, timeout]) : timeout,
      timeoutMs,
      signal,
    );
    await res.body?.cancel();
  }

  private async askHeaders(accept: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept };
    const key = await this.deps.secret(SECRET_ANTHROPIC_KEY);
    // Only /ask ever sees the Anthropic key; the server forwards it and never stores it.
    if (key) headers[ANTHROPIC_KEY_HEADER] = key;
    return headers;
  }

  async ask(req: AskRequest, signal?: AbortSignal): Promise<AskResponse> {
    return this.json('/api/query/ask', isAskResponse, { method: 'POST', body: req, signal, headers: await this.askHeaders('application/json') });
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
    const base = this.baseUrl();
    try {
      arm(timeoutMs);
      const res = await this.send(
        '/api/query/ask',
        { method: 'POST', body: req, headers: await this.askHeaders('text/event-stream') },
        controller.signal,
        timeoutMs,
        signal,
      );
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // A server without streaming answers JSON; replay it as the same events.
        arm(timeoutMs);
        const body: unknown = await res.json();
        if (!isAskResponse(body)) throw new ApiError(0, 'bad_response', `/api/query/ask answered with an unexpected shape; is the server at ${base} an AI Library server?`);
        yield { event: 'sources', data: { sources: body.sources, conversation_id: body.conversation_id, mode: body.mode } };
        if (body.answer) yield { event: 'delta', data: { text: body.answer } };
        yield { event: 'done', data: body };
        return;
      }
      if (!res.body) throw new ApiError(0, 'bad_response', '/api/query/ask sent an empty stream');
      arm(idleMs);
      for await (const msg of readSse(res.body)) {
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
