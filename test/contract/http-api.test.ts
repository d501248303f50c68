/**
 * The HTTP contract end to end: the extension's client (typed by the server's
 * route table through `hono/client`) against the real app on a loopback port.
 * Every typed call must hit a real route and pass its response schema; the
 * answer stream is read by the client's SSE parser from the real /ask; an
 * error's `code`, not its wording, picks what the extension offers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, SECRET_ANTHROPIC_KEY, type RequestOutcome, type SecretName } from '../../extension/api-client.js';
import { describeFailure } from '../../extension/errors.js';
import type { AskStreamEvent } from '../../shared/api-types.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DEV_KEY = 'sk-ant-dev-KEY-contract-9c1e';

const DOCS: Record<string, string> = {
  'guides/searching.md': `# Searching

## Modes

Hybrid search fuses dense vectors and BM25 keyword scores with reciprocal rank fusion.
Use keyword mode for exact identifiers.
`,
  'operations/backups.md': `# Backups

## Retention

Daily backups are kept for fourteen days. Weekly backups are kept for three months.
`,
};

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('the extension client against the real server', () => {
  let env: TempEnv;
  let fake: AnthropicFake;
  let server: RunningServer;
  const secrets = new Map<SecretName, string>();
  const outcomes: RequestOutcome[] = [];
  let client: ApiClient;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv(DOCS);
    // No server key: answers are extractive unless the developer's key is sent (then Claude is the fake).
    env.env.ANTHROPIC_BASE_URL = fake.url;
    server = await startServer(env.env, env.root);
    expect((await server.services.indexer.indexAll()).summary.indexed).toBe(2);
    client = new ApiClient({
      settings: () => ({ serverUrl: server.url, timeoutMs: 20_000 }),
      secret: async (name) => secrets.get(name),
      observe: (o) => outcomes.push(o),
    });
  });

  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('reads every JSON route through its typed call and its response schema', async () => {
    outcomes.length = 0;
    const health = await client.health();
    expect(health.store.points).toBeGreaterThan(0);
    expect(health.indexing.state).toBe('done');

    const stats = await client.stats();
    expect(stats.documents).toBe(2);
    expect(stats.by_contributor).toEqual({ '(unattributed)': 2 });

    const indexed = await client.index({ file_path: 'notes/restore & recover.md', content: '# Restore\n\nStop the server, unpack the newest archive, start it again.\n', workspace: 'contract' });
    expect(indexed.files[0]).toMatchObject({ file_path: 'contributed/contract/notes/restore & recover.md', status: 'indexed' });

    const found = await client.search({ query: 'reciprocal rank fusion', n_results: 3 });
    expect(found.mode).toBe('hybrid');
    expect(found.results[0]?.file_path).toBe('guides/searching.md');

    const similar = await client.similar({ text: 'How long are weekly backups kept?', n_results: 2 });
    expect(similar.results.map((r) => r.file_path)).toContain('operations/backups.md');

    const tree = await client.taxonomy();
    expect(tree.total_documents).toBe(3);

    // A path with characters a hand-built query string would have to escape.
    const doc = await client.document('contributed/contract/notes/restore & recover.md');
    expect(doc.content).toContain('unpack the newest archive');

    const answer = await client.ask({ question: 'How long are daily backups kept?' });
    expect(answer.mode).toBe('extractive');
    expect(answer.sources.some((s) => s.file_path === 'operations/backups.md')).toBe(true);

    const list = await client.conversations();
    expect(list.map((c) => c.id)).toContain(answer.conversation_id);
    const conversation = await client.conversation(answer.conversation_id);
    expect(conversation.history[0]?.question).toBe('How long are daily backups kept?');
    await client.deleteConversation(answer.conversation_id);
    await expect(client.conversation(answer.conversation_id)).rejects.toMatchObject({ status: 404, code: 'not_found' });

    // /health is open to callers without a token; every /api answer proves the token is accepted.
    expect(outcomes.slice(0, 2)).toEqual([
      { ok: true, authenticated: false },
      { ok: true, authenticated: true },
    ]);
  });

  it('streams an answer from the real /ask through the SSE parser, in order, text matching the final answer', async () => {
    secrets.set(SECRET_ANTHROPIC_KEY, DEV_KEY);
    try {
      fake.enqueue({ kind: 'answer', deltas: ['Daily backups ', 'are kept for ', 'fourteen days — 日本語 ✓.'] });
      const events: AskStreamEvent[] = await collect(client.askStream({ question: 'How long are daily backups kept?' }));
      expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'delta', 'delta', 'done']);
      const text = events.flatMap((e) => (e.event === 'delta' ? [e.data.text] : [])).join('');
      const done = events.at(-1);
      expect(done?.event === 'done' && done.data.answer).toBe(text);
      expect(text).toBe('Daily backups are kept for fourteen days — 日本語 ✓.');
      expect(done?.event === 'done' && done.data.mode).toBe('claude');
      // The developer's key reached Claude (the fake), and only through /ask.
      const sent = fake.requests.at(-1);
      expect([DEV_KEY, `Bearer ${DEV_KEY}`]).toContain(sent?.headers['x-api-key'] ?? sent?.headers.authorization);
    } finally {
      secrets.delete(SECRET_ANTHROPIC_KEY);
    }
  });

  it('streams an extractive answer without a key as the same events', async () => {
    const events = await collect(client.askStream({ question: 'Which search mode fits exact identifiers?' }));
    expect(events[0]?.event).toBe('sources');
    expect(events.at(-1)?.event).toBe('done');
    const done = events.at(-1);
    expect(done?.event === 'done' && done.data.mode).toBe('extractive');
  });

  it('turns the server error body into an ApiError with its code and message', async () => {
    const err = await client.search({ query: '   ' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request', message: 'query: must not be empty' });
  });

  it('answers a bad query string through zValidator with the API\'s error body, naming the parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/api/library/documents', /^path: is required, e\.g\. \/api\/library\/documents\?path=/],
      ['/api/library/documents?path=%20', /^path: is required/],
      ['/api/library/jobs?limit=abc', /^limit: must be a whole number from 1 to 200$/],
      ['/api/admin/usage?month=2026-13', /^month: "2026-13" is not a month; use YYYY-MM/],
    ];
    for (const [route, message] of cases) {
      const res = await fetch(`${server.url}${route}`);
      expect(res.status, route).toBe(400);
      const body: unknown = await res.json();
      expect(body, route).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(message) } });
    }
  });

  it('lets the code of a real refusal pick the action: Anthropic refusing the key offers "Set Anthropic API Key"', async () => {
    secrets.set(SECRET_ANTHROPIC_KEY, DEV_KEY);
    try {
      fake.enqueue({ kind: 'status', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
      const err = await collect(client.askStream({ question: 'How long are daily backups kept?' })).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 401, code: 'anthropic_unauthorized' });
      const failure = describeFailure(err, { serverUrl: server.url, doing: 'answering' });
      expect(failure.actions).toEqual(['setAnthropicKey']);
      expect(failure.message).toContain('Set Anthropic API Key');
      expect(failure.message).not.toContain(DEV_KEY);
    } finally {
      secrets.delete(SECRET_ANTHROPIC_KEY);
    }
  });
});
