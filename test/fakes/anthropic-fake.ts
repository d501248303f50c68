import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Anthropic Messages API on 127.0.0.1: `POST /v1/messages`,
 * non-streaming JSON or `stream: true` server-sent events in the real wire
 * format (message_start, content_block_start, ping, content_block_delta with
 * text_delta and citations_delta, content_block_stop, message_delta,
 * message_stop). Faults are scripted per request; every request is recorded.
 */

export interface SearchResultBlock {
  type: 'search_result';
  source: string;
  title: string;
  content: Array<{ type: 'text'; text: string }>;
  citations?: { enabled: boolean };
}

export interface MessagesBody {
  model: string;
  max_tokens: number;
  stream?: boolean;
  system?: Array<{ type: 'text'; text: string; cache_control?: { type: string } }> | string;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, unknown>> }>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: MessagesBody;
}

/** Cite search result `index` (0-based, as in the request) after delta number `afterDelta`. */
export interface FakeCitation {
  afterDelta: number;
  /** 0-based search result to cite; ignored when `match` finds one. */
  index: number;
  /** Cite the first search result whose source contains this text (e.g. a file path). */
  match?: string;
  /** Override the echoed `source` (to test a mismatched index). */
  source?: string;
  startBlock?: number;
  endBlock?: number;
}

export type FakeScript =
  | {
      kind: 'answer';
      deltas?: string[];
      citations?: FakeCitation[];
      stopReason?: string;
      usage?: { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number };
      /** Pause between text deltas, to let a test hang up mid-answer. */
      delayMs?: number;
    }
  | { kind: 'status'; status: number; type: string; message: string; headers?: Record<string, string> }
  /** An `error` event after `afterDeltas` text deltas, inside an open 200 stream. */
  | { kind: 'stream-error'; deltas: string[]; afterDeltas: number; errorType?: string; message?: string }
  /** The socket is destroyed after `afterDeltas` text deltas. */
  | { kind: 'drop'; deltas: string[]; afterDeltas: number };

export interface AnthropicFake {
  url: string;
  requests: RecordedRequest[];
  /** Scripts for the next requests, in order; with none queued, a default cited answer. */
  enqueue(...scripts: FakeScript[]): void;
  /** Search-result blocks of a request's last user message. */
  searchResults(req: RecordedRequest): SearchResultBlock[];
  close(): Promise<void>;
}

function isSearchResult(v: Record<string, unknown>): v is Record<string, unknown> & SearchResultBlock {
  return v.type === 'search_result' && typeof v.source === 'string' && Array.isArray(v.content);
}

function searchResultsOf(body: MessagesBody): SearchResultBlock[] {
  const last = body.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter(isSearchResult);
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function defaultAnswer(results: SearchResultBlock[], delayMs: number | undefined): FakeScript {
  const first = results[0]?.content[0]?.text ?? '';
  const words = `According to the library, ${first.split(/\s+/).slice(0, 12).join(' ')}`.split(' ');
  const deltas: string[] = [];
  for (let i = 0; i < words.length; i += 3) deltas.push(words.slice(i, i + 3).join(' ') + ' ');
  return { kind: 'answer', deltas: results.length ? deltas : ['The library has nothing on this.'], citations: results.length ? [{ afterDelta: 0, index: 0 }] : [], delayMs };
}

function citationFor(c: FakeCitation, results: SearchResultBlock[]) {
  const matched = c.match === undefined ? -1 : results.findIndex((r) => r.source.includes(c.match ?? ''));
  const index = matched >= 0 ? matched : c.index;
  const block = results[index];
  const start = c.startBlock ?? 0;
  const end = c.endBlock ?? start + 1;
  return {
    type: 'search_result_location',
    source: c.source ?? block?.source ?? 'unknown',
    title: block?.title ?? null,
    cited_text: (block?.content ?? []).slice(start, end).map((t) => t.text).join(''),
    search_result_index: index,
    start_block_index: start,
    end_block_index: end,
  };
}

let messageCounter = 0;

async function streamAnswer(res: ServerResponse, body: MessagesBody, results: SearchResultBlock[], script: FakeScript): Promise<void> {
  const id = `msg_fake_${++messageCounter}`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${messageCounter}` });
  const usage = script.kind === 'answer' ? (script.usage ?? {}) : {};
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens ?? 321,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      },
    },
  });
  sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: [] } });
  sse(res, 'ping', { type: 'ping' });
  const deltas = script.kind === 'status' ? [] : (script.deltas ?? []);
  const stopAt = script.kind === 'stream-error' || script.kind === 'drop' ? script.afterDeltas : deltas.length;
  for (let i = 0; i < Math.min(stopAt, deltas.length); i++) {
    if (script.kind === 'answer' && script.delayMs && i > 0) await new Promise((r) => setTimeout(r, script.delayMs));
    if (res.destroyed) return;
    sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: deltas[i] } });
    if (script.kind === 'answer') {
      for (const c of script.citations ?? []) {
        if (c.afterDelta === i) sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation: citationFor(c, results) } });
      }
    }
  }
  if (script.kind === 'drop') {
    // Give the bytes a moment to leave, then cut the connection mid-message.
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  if (script.kind === 'stream-error') {
    sse(res, 'error', { type: 'error', error: { type: script.errorType ?? 'overloaded_error', message: script.message ?? 'Overloaded' } });
    res.end();
    return;
  }
  sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: script.kind === 'answer' ? (script.stopReason ?? 'end_turn') : 'end_turn', stop_sequence: null },
    usage: { output_tokens: usage.output_tokens ?? deltas.length * 3 },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function jsonAnswer(res: ServerResponse, body: MessagesBody, results: SearchResultBlock[], script: Extract<FakeScript, { kind: 'answer' }>): void {
  const text = (script.deltas ?? []).join('');
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${++messageCounter}` });
  res.end(
    JSON.stringify({
      id: `msg_fake_${messageCounter}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [{ type: 'text', text, citations: (script.citations ?? []).map((c) => citationFor(c, results)) }],
      stop_reason: script.stopReason ?? 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 321, output_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    }),
  );
}

/**
 * `deltaDelayMs` paces the default answer's deltas, so a UI can be seen
 * streaming (an instant fake finishes before a renderer can be observed).
 */
export async function startAnthropicFake(options: { deltaDelayMs?: number } = {}): Promise<AnthropicFake> {
  const requests: RecordedRequest[] = [];
  const queue: FakeScript[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      let body: MessagesBody;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'body is not JSON' } }));
        return;
      }
      const recorded: RecordedRequest = { method: req.method, path: req.url, headers: { ...req.headers }, body };
      requests.push(recorded);
      const results = searchResultsOf(body);
      // A script that cites search results is meant for an answer: a request that carries none
      // (e.g. the follow-up condense call, server/answers/follow-up.ts) gets the default instead.
      const head = queue[0];
      const citesResults = head !== undefined && head.kind === 'answer' && (head.citations?.length ?? 0) > 0;
      const script = (citesResults && results.length === 0 ? undefined : queue.shift()) ?? defaultAnswer(results, options.deltaDelayMs);
      if (script.kind === 'status') {
        res.writeHead(script.status, { 'content-type': 'application/json', 'request-id': `req_fake_${++messageCounter}`, ...(script.headers ?? {}) });
        res.end(JSON.stringify({ type: 'error', error: { type: script.type, message: script.message }, request_id: `req_fake_${messageCounter}` }));
        return;
      }
      if (body.stream === true) await streamAnswer(res, body, results, script);
      else if (script.kind === 'answer') jsonAnswer(res, body, results, script);
      else await streamAnswer(res, body, results, script);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...scripts) => queue.push(...scripts),
    searchResults: (req) => searchResultsOf(req.body),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
