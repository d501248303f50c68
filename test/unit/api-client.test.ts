import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnswerSource, AskResponse, AskStreamEvent } from '../../shared/api-types.js';
import { ApiClient, ApiError, SECRET_ANTHROPIC_KEY, SECRET_SERVER_TOKEN, type SecretName } from '../../extension/api-client.js';
import { describeFailure } from '../../extension/errors.js';

// ---- helpers ----

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Cuts a string into pieces of the given sizes (the rest in the last piece). */
function cut(text: string, sizes: number[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(text.slice(at, at + size));
    at += size;
  }
  out.push(text.slice(at));
  return out.filter((s) => s !== '');
}

const source: AnswerSource = {
  index: 1,
  id: '00000000-0000-4000-8000-000000000001',
  file_path: 'guides/searching.md',
  section: 'Modes',
  start_line: 3,
  end_line: 9,
  score: 0.91,
  snippet: 'Hybrid search fuses dense and keyword scores.',
  taxonomy: { full_path: 'guides/search', level1: 'guides', level2: 'search' },
};

const answer: AskResponse = {
  answer: 'Use hybrid mode [1].',
  sources: [source],
  citations: [],
  confidence: 0.8,
  conversation_id: 'conv_1',
  mode: 'claude',
  model: 'claude-sonnet-4-5',
  incomplete: false,
  usage: null,
};

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

// ---- a real local server ----

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handler: Handler = (_req, res) => res.end();
let server: Server;
let baseUrl = '';
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
const secrets = new Map<SecretName, string>();
let timeoutMs = 2000;

function client(url = baseUrl): ApiClient {
  return new ApiClient({ settings: () => ({ serverUrl: url, timeoutMs }), secret: async (name) => secrets.get(name) });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  secrets.clear();
  timeoutMs = 2000;
});

/** Writes SSE text in pieces with pauses, so the client really reads it across chunks. */
function streamResponse(res: ServerResponse, pieces: Array<string | Uint8Array>, endAfter = true, gapMs = 5): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let i = 0;
  const next = () => {
    if (i < pieces.length) {
      res.write(pieces[i++]);
      setTimeout(next, gapMs);
    } else if (endAfter) {
      res.end();
    }
  };
  next();
}

// ---- tests ----

describe('ApiClient.askStream over a real server', () => {
  it('streams sources, deltas and done in order, with the token and the Anthropic key in headers', async () => {
    secrets.set(SECRET_SERVER_TOKEN, 'server-token-123');
    secrets.set(SECRET_ANTHROPIC_KEY, 'sk-ant-api03-test');
    const body =
      sse('sources', { sources: [source], conversation_id: 'conv_1', mode: 'claude' }) +
      sse('delta', { text: 'Use hybrid ' }) +
      ': ping\n\n' +
      sse('delta', { text: 'mode [1].' }) +
      sse('done', answer);
    handler = (_req, res) => streamResponse(res, cut(body, [7, 30, 3, 60, 1, 1, 45]));
    const events: AskStreamEvent[] = await collect(client().askStream({ question: 'How do I search?' }));
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'delta', 'done']);
    const text = events.flatMap((e) => (e.event === 'delta' ? [e.data.text] : [])).join('');
    expect(text).toBe('Use hybrid mode [1].');
    const req = seen[0];
    expect(req?.url).toBe('/api/query/ask');
    expect(req?.headers.accept).toBe('text/event-stream');
    expect(req?.headers.authorization).toBe('Bearer server-token-123');
    expect(req?.headers['x-anthropic-api-key']).toBe('sk-ant-api03-test');
    expect(JSON.parse(req?.body ?? '{}')).toEqual({ question: 'How do I search?' });
  });

  it('sends the Anthropic key only to /ask', async () => {
    secrets.set(SECRET_ANTHROPIC_KEY, 'sk-ant-api03-test');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ query: 'q', mode: 'hybrid', results: [], took_ms: 1 }));
    };
    await client().search({ query: 'q' });
    expect(seen[0]?.headers['x-anthropic-api-key']).toBeUndefined();
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('reports a stream that ends before done as an error event, keeping what came', async () => {
    handler = (_req, res) => streamResponse(res, [sse('sources', { sources: [source], conversation_id: 'c', mode: 'extractive' }), sse('delta', { text: 'part' })]);
    const events = await collect(client().askStream({ question: 'q' }));
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'error']);
    const last = events[2];
    expect(last?.event === 'error' && last.data.code).toBe('stream_ended');
  });

  it('reads events and multi-byte characters split anywhere across chunks', async () => {
    const text = sse('delta', { text: 'naïve — 日本語 ✓' }).replace('\n\n', '\r\n\r\n') + sse('done', answer);
    const bytes = Buffer.from(text, 'utf8');
    for (const at of [1, 7, bytes.indexOf(0xe6) + 1, bytes.indexOf(0x0d) + 1, bytes.length - 1]) {
      handler = (_req, res) => streamResponse(res, [bytes.subarray(0, at), bytes.subarray(at)]);
      const events = await collect(client().askStream({ question: 'q' }));
      expect(events.map((e) => e.event), `split at ${at}`).toEqual(['delta', 'done']);
      expect(events[0]?.event === 'delta' && events[0].data.text).toBe('naïve — 日本語 ✓');
    }
  });

  it('refuses a malformed event by its schema, naming the event', async () => {
    handler = (_req, res) => streamResponse(res, [sse('sources', { sources: [{ file_path: 3 }], conversation_id: 'c', mode: 'claude' })]);
    await expect(collect(client().askStream({ question: 'q' }))).rejects.toMatchObject({ code: 'bad_response', message: expect.stringContaining('"sources"') });
  });

  it('passes a server error event through with its partial answer', async () => {
    const partial = { ...answer, answer: 'Use hyb', incomplete: true };
    handler = (_req, res) => streamResponse(res, [sse('delta', { text: 'Use hyb' }), sse('error', { code: 'upstream_error', message: 'Anthropic timed out', partial })]);
    const events = await collect(client().askStream({ question: 'q' }));
    const last = events.at(-1);
    expect(last?.event).toBe('error');
    if (last?.event === 'error') {
      expect(last.data.code).toBe('upstream_error');
      expect(last.data.partial?.answer).toBe('Use hyb');
    }
  });

  it('stops when aborted (the stop button) with code "aborted"', async () => {
    handler = (_req, res) => streamResponse(res, [sse('delta', { text: 'a' })], false);
    const controller = new AbortController();
    const got: string[] = [];
    const run = (async () => {
      for await (const ev of client().askStream({ question: 'q' }, controller.signal)) {
        got.push(ev.event);
        controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
    expect(got).toEqual(['delta']);
  });

  it('replays a plain JSON answer as events when the server does not stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    const events = await collect(client().askStream({ question: 'q' }));
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'done']);
  });

  it('maps an HTTP error before the stream starts', async () => {
    handler = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_request', message: 'question: must not be empty' } }));
    };
    await expect(collect(client().askStream({ question: ' ' }))).rejects.toMatchObject({ status: 400, code: 'invalid_request', message: 'question: must not be empty' });
  });
});

describe('ApiClient errors', () => {
  function reply(status: number, body: string, headers: Record<string, string> = {}): void {
    handler = (_req, res) => {
      res.writeHead(status, headers);
      res.end(body);
    };
  }

  it('parses the JSON error body into ApiError', async () => {
    reply(401, JSON.stringify({ error: { code: 'unauthorized', message: 'missing or invalid bearer token' } }), { 'content-type': 'application/json' });
    secrets.set(SECRET_SERVER_TOKEN, 'wrong-token-xyz');
    const err = await client().stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'unauthorized', message: 'missing or invalid bearer token' });
    const failure = describeFailure(err, { serverUrl: baseUrl });
    expect(failure.actions).toEqual(['setServerToken']);
    expect(failure.message).not.toContain('wrong-token-xyz');
  });

  it('reads Retry-After on 429 and offers a retry', async () => {
    reply(429, JSON.stringify({ error: { code: 'rate_limited', message: 'too many requests' } }), { 'content-type': 'application/json', 'retry-after': '7' });
    const err = await client().search({ query: 'q' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 7 });
    const failure = describeFailure(err, { serverUrl: baseUrl, doing: 'searching' });
    expect(failure.message).toContain('rate limited, retry in 7 s');
    expect(failure.actions).toEqual(['retry']);
  });

  it('says a 413 means the file is too large for the server', async () => {
    reply(413, JSON.stringify({ error: { code: 'payload_too_large', message: 'the body is larger than 1048576 bytes' } }), { 'content-type': 'application/json' });
    const err = await client().index({ file_path: 'a.md', content: 'x' }).catch((e: unknown) => e);
    expect(describeFailure(err, { serverUrl: baseUrl, doing: 'indexing a.md' }).message).toContain('file too large for the server');
  });

  it('shows the server message on 503, with retry and status actions', async () => {
    reply(503, JSON.stringify({ error: { code: 'store_unavailable', message: 'Qdrant at http://qdrant:6333 is not answering; start it or check vector.url' } }), {
      'content-type': 'application/json',
    });
    const err = await client().taxonomy().catch((e: unknown) => e);
    const failure = describeFailure(err, { serverUrl: baseUrl });
    expect(failure.message).toContain('Qdrant at http://qdrant:6333 is not answering');
    expect(failure.actions).toEqual(['retry', 'showIndexStatus']);
  });

  it('turns the status-only /health of a server with tokens into a "set the server token" failure', async () => {
    reply(200, JSON.stringify({ status: 'ok' }), { 'content-type': 'application/json' });
    const err = await client().health().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
    const failure = describeFailure(err, { serverUrl: baseUrl });
    expect(failure.message).toMatch(/server token/);
    expect(failure.actions).toEqual(['setServerToken']);
  });

  it('copes with a non-JSON error body', async () => {
    reply(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' });
    const err = await client().health().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'http_error' });
    expect((err as ApiError).message).toContain('502');
  });

  it('reports an unreachable server with Open Settings and Retry', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const err = await client(url).health().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'unreachable' });
    const failure = describeFailure(err, { serverUrl: url });
    expect(failure.message).toContain(`AI Library server not reachable at ${url}`);
    expect(failure.actions).toEqual(['openSettings', 'retry']);
  });

  it('times out after aiLibrary.requestTimeoutMs', async () => {
    handler = () => undefined; // never answers
    timeoutMs = 150;
    const err = await client().health().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout' });
    expect(describeFailure(err, { serverUrl: baseUrl }).message).toContain('aiLibrary.requestTimeoutMs');
  });

  it('rejects a server URL that is not http(s) before sending anything', async () => {
    const err = await client('ftp://example.test').health().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_server_url' });
    expect(describeFailure(err, { serverUrl: 'ftp://example.test' }).actions).toEqual(['openSettings']);
  });

  it('keeps a base path in the server URL', async () => {
    reply(200, JSON.stringify({ categories: [], total_documents: 0 }), { 'content-type': 'application/json' });
    await client(`${baseUrl}/ai-library/`).taxonomy();
    expect(seen[0]?.url).toBe('/ai-library/api/library/taxonomy');
  });

  it('refuses a 200 with an unexpected shape, naming the endpoint', async () => {
    reply(200, JSON.stringify({ hello: 'world' }), { 'content-type': 'application/json' });
    await expect(client().stats()).rejects.toMatchObject({ code: 'bad_response', message: expect.stringContaining('/api/library/stats') });
  });
});
