import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResponse, AskStreamEvent, Conversation, ConversationSummary, ErrorBody } from '../../shared/api-types.js';
import type { Env } from '../../server/config/settings.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DEV_KEY = 'sk-ant-dev-KEY-4f9d2c71b0e8';
const SERVER_KEY = 'sk-ant-server-KEY-a1b2c3d4e5f6';

const DOCS: Record<string, string> = {
  'security/authentication.md': `---
title: Implementing Authentication
category: security/access-control
---
# Implementing Authentication

## Server tokens

To implement authentication, give every developer a personal server token and send it as a bearer token in the Authorization header. Tokens are created with npm run token.

## Rotation

Rotate server tokens every ninety days and revoke the token of anyone who leaves the team.
`,
  'operations/backups.md': `---
title: Backups
category: operations/backup-restore
---
# Backups

## Retention

Daily backups are kept for fourteen days. Weekly backups are kept for three months.

## Restore

Stop the server, unpack the newest archive into the data folder, then start the server again.
`,
  'operations/deployment.md': `# Deploying the Server

## Docker compose

Deploy the server and Qdrant with docker compose on the production VM. The health check answers on port 8000.
`,
};

type Harness = RunningServer;

/** The real app on a loopback port, with its log captured to check for leaked keys. */
const startHarness = (env: Env, root: string): Promise<Harness> => startServer(env, root, undefined, 'debug');

/** Whatever came back, typed loosely: tests read the fields the status says are there. */
type AskBody = AskResponse & ErrorBody;
type ConversationBody = Conversation & ErrorBody & { conversations: ConversationSummary[] };

async function ask(h: Harness, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: AskBody }> {
  const res = await fetch(`${h.url}/api/query/ask`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const reply = await readReply(res);
  return { ...reply, json: reply.json as AskBody };
}

function parseSse(text: string): AskStreamEvent[] {
  const events: AskStreamEvent[] = [];
  for (const block of text.split(/\n\n+/)) {
    const event = /^event: (.+)$/m.exec(block)?.[1];
    const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
    if (event) events.push({ event, data: JSON.parse(data) } as AskStreamEvent);
  }
  return events;
}

async function askStream(h: Harness, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; events: AskStreamEvent[]; text: string }> {
  const res = await fetch(`${h.url}/api/query/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, text, events: contentType.includes('text/event-stream') ? parseSse(text) : [] };
}

async function getJson(h: Harness, path: string, method = 'GET'): Promise<{ status: number; json: ConversationBody }> {
  const res = await fetch(`${h.url}${path}`, { method });
  return { status: res.status, json: (await res.json()) as ConversationBody };
}

describe('POST /api/query/ask and conversations', () => {
  let env: TempEnv;
  let fake: AnthropicFake;
  let h: Harness;
  const withKey = { 'x-anthropic-api-key': DEV_KEY };

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv(DOCS);
    // No server key: extractive by default, Claude (the fake) when a developer sends a key.
    env.env.ANTHROPIC_BASE_URL = fake.url;
    h = await startHarness(env.env, env.root);
    const indexed = await h.services.indexer.indexAll();
    expect(indexed.summary.indexed).toBe(3);
  });

  afterAll(async () => {
    await h?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('answers the seed curl verbatim, extractively, citing the right document', async () => {
    // curl -X POST http://localhost:8000/api/query/ask -H "Content-Type: application/json" -d '{"question": "How do I implement authentication?"}'
    const res = await fetch(`${h.url}/api/query/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"question": "How do I implement authentication?"}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AskResponse;
    expect(Object.keys(body).sort()).toEqual(['answer', 'citations', 'confidence', 'conversation_id', 'incomplete', 'mode', 'model', 'sources', 'usage']);
    expect(body.mode).toBe('extractive');
    expect(body.model).toBeNull();
    expect(body.usage).toBeNull();
    expect(body.incomplete).toBe(false);
    expect(body.answer).toMatch(/^Extractive answer \(no Anthropic API key configured\)/);
    expect(body.citations.length).toBeGreaterThan(0);
    expect(body.citations[0]?.file_path).toBe('security/authentication.md');
    expect(body.answer).toContain(`[${body.citations[0]?.source_index}]`);
    const cited = body.sources.find((s) => s.index === body.citations[0]?.source_index);
    expect(cited?.file_path).toBe('security/authentication.md');
    expect(body.confidence).toBeGreaterThan(0);
    expect(body.confidence).toBeLessThanOrEqual(1);
    expect(body.conversation_id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(fake.requests).toHaveLength(0);
  });

  it('says so when the library has nothing on the question', async () => {
    const { status, json } = await ask(h, { question: 'What is the capital of France?' });
    expect(status).toBe(200);
    expect(json.answer).toContain('The library has nothing on this');
    expect(json.citations).toEqual([]);
    expect(json.confidence).toBe(0);
  });

  it('streams sources, deltas and done with native citations mapped to the right source', async () => {
    fake.enqueue({
      kind: 'answer',
      deltas: ['Send a personal ', 'server token as a bearer token ', '[source: security/authentication.md].'],
      citations: [{ afterDelta: 1, index: 0, match: 'security/authentication.md', startBlock: 0, endBlock: 1 }],
      usage: { input_tokens: 900, output_tokens: 30, cache_read_input_tokens: 400 },
    });
    const before = fake.requests.length;
    const { status, contentType, events } = await askStream(h, { question: 'How do I implement authentication?' }, withKey);
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');
    expect(events[0]?.event).toBe('sources');
    expect(events.at(-1)?.event).toBe('done');
    const deltas = events.filter((e) => e.event === 'delta');
    expect(deltas.length).toBe(3);
    expect(events.slice(1, -1).every((e) => e.event === 'delta')).toBe(true);
    const sources = events[0]?.event === 'sources' ? events[0].data : null;
    const done = events.at(-1)?.event === 'done' ? (events.at(-1)?.data as AskResponse) : null;
    expect(sources?.mode).toBe('claude');
    expect(done?.answer).toBe(deltas.map((d) => (d.event === 'delta' ? d.data.text : '')).join(''));
    expect(done?.conversation_id).toBe(sources?.conversation_id);
    expect(done?.mode).toBe('claude');
    expect(done?.model).toBe('claude-sonnet-5-5');
    expect(done?.usage).toEqual({ input_tokens: 900, output_tokens: 30, cache_read_input_tokens: 400, cache_creation_input_tokens: 0 });
    expect(done?.citations).toHaveLength(1);
    const citation = done?.citations[0];
    expect(citation?.file_path).toBe('security/authentication.md');
    expect(done?.sources.find((s) => s.index === citation?.source_index)?.file_path).toBe('security/authentication.md');
    expect(citation?.cited_text).toContain('# Implementing Authentication');

    // What went to Claude: the developer's key, the model, a cached system prompt, one search_result per source.
    const sent = fake.requests[before];
    expect(sent).toBeDefined();
    if (!sent) return;
    expect([DEV_KEY, `Bearer ${DEV_KEY}`]).toContain(sent.headers['x-api-key'] ?? sent.headers.authorization);
    expect(sent.body.model).toBe('claude-sonnet-5-5');
    expect(sent.body.system).toEqual([expect.objectContaining({ type: 'text', cache_control: { type: 'ephemeral' } })]);
    const results = fake.searchResults(sent);
    expect(results).toHaveLength(done?.sources.length ?? -1);
    expect(results.every((r) => r.citations?.enabled === true)).toBe(true);
    expect(results.map((r) => r.source.split('#')[0])).toEqual(done?.sources.map((s) => s.file_path));
    expect(results.find((r) => r.source.startsWith('security/authentication.md'))?.title).toBe('security/authentication.md (Section: Implementing Authentication)');
  });

  it('keeps a partial answer when the stream fails midway, and saves the turn as incomplete', async () => {
    fake.enqueue({ kind: 'stream-error', deltas: ['Daily backups ', 'are kept ', 'for…'], afterDeltas: 2, errorType: 'api_error', message: 'Internal server error' });
    const { status, events } = await askStream(h, { question: 'How long are daily backups kept?' }, withKey);
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'delta', 'error']);
    const error = events.at(-1);
    expect(error?.event).toBe('error');
    if (error?.event !== 'error') return;
    expect(error.data.code).toBe('stream_interrupted');
    expect(error.data.message).toMatch(/broke off|dropped/);
    expect(error.data.partial?.answer).toBe('Daily backups are kept ');
    expect(error.data.partial?.incomplete).toBe(true);
    const id = error.data.partial?.conversation_id ?? '';
    const saved = await getJson(h, `/api/conversations/${id}`);
    expect(saved.status).toBe(200);
    const conversation: Conversation = saved.json;
    expect(conversation.history.at(-1)).toMatchObject({ answer: 'Daily backups are kept ', incomplete: true, mode: 'claude' });
  });

  it('keeps a partial answer when the connection drops midway', async () => {
    fake.enqueue({ kind: 'drop', deltas: ['Stop the server, ', 'unpack…'], afterDeltas: 1 });
    const { events } = await askStream(h, { question: 'How do I restore a backup?' }, withKey);
    const last = events.at(-1);
    expect(last?.event).toBe('error');
    if (last?.event !== 'error') return;
    expect(last.data.code).toBe('stream_interrupted');
    expect(last.data.partial).toMatchObject({ answer: 'Stop the server, ', incomplete: true });
    const conversation: Conversation = (await getJson(h, `/api/conversations/${last.data.partial?.conversation_id}`)).json;
    expect(conversation.history).toHaveLength(1);
    expect(conversation.history[0]?.incomplete).toBe(true);
  });

  it('stops Claude and keeps the partial answer when the client hangs up', async () => {
    fake.enqueue({ kind: 'answer', deltas: ['Rotate tokens ', 'every ninety days ', 'and revoke…'], delayMs: 400 });
    const hangUp = new AbortController();
    const res = await fetch(`${h.url}/api/query/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...withKey },
      body: JSON.stringify({ question: 'How often should server tokens be rotated?' }),
      signal: hangUp.signal,
    });
    const reader = res.body?.getReader();
    let seen = '';
    while (reader && !seen.includes('event: delta')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    const conversationId = /"conversation_id":"([^"]+)"/.exec(seen)?.[1] ?? '';
    hangUp.abort();
    await reader?.cancel().catch(() => undefined);
    let saved: Conversation | null = null;
    for (let i = 0; i < 50 && !saved; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const got = await getJson(h, `/api/conversations/${conversationId}`);
      if (got.status === 200) saved = got.json;
    }
    expect(saved?.history[0]).toMatchObject({ answer: 'Rotate tokens ', incomplete: true });
  });

  it('401: a clear message naming the fix, never the key (JSON and stream, response and log)', async () => {
    const rejected = { kind: 'status', status: 401, type: 'authentication_error', message: `invalid x-api-key: ${DEV_KEY}` } as const;
    fake.enqueue(rejected);
    const res = await ask(h, { question: 'How do I implement authentication?' }, withKey);
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('anthropic_unauthorized');
    expect(res.json.error.message).toBe("Anthropic rejected the API key: set it again with 'AI Library: Set Anthropic API Key'");
    expect(res.text).not.toContain(DEV_KEY);

    // Before any text, a stream failure is still a plain HTTP error with its status.
    fake.enqueue(rejected);
    const streamed = await askStream(h, { question: 'How do I implement authentication?' }, withKey);
    expect(streamed.status).toBe(401);
    expect(streamed.text).not.toContain(DEV_KEY);
    expect(h.logs.join('')).not.toContain(DEV_KEY);
  });

  it('429: passed on with Retry-After after the SDK retried', async () => {
    const limited = { kind: 'status', status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': '7', 'retry-after-ms': '20' } } as const;
    fake.enqueue(limited, limited, limited);
    const before = fake.requests.length;
    const res = await ask(h, { question: 'How long are daily backups kept?' }, withKey);
    expect(fake.requests.length - before).toBe(3);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.json.error).toEqual({ code: 'rate_limited', message: 'Anthropic rate limit reached for this key; retry after 7 s' });
  });

  it('529 overloaded: 503 "Claude is overloaded; try again shortly"', async () => {
    const overloaded = { kind: 'status', status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after-ms': '20' } } as const;
    fake.enqueue(overloaded, overloaded, overloaded);
    const res = await ask(h, { question: 'How long are daily backups kept?' }, withKey);
    expect(res.status).toBe(503);
    expect(res.json.error).toEqual({ code: 'overloaded', message: 'Claude is overloaded; try again shortly' });
  });

  it('sends the previous turns as history on the next question, searched with Claude\'s standalone rewrite', async () => {
    fake.enqueue({ kind: 'answer', deltas: ['Daily backups are kept for fourteen days.'], citations: [{ afterDelta: 0, index: 0, match: 'operations/backups.md' }] });
    const first = await ask(h, { question: 'How long are daily backups kept?' }, withKey);
    expect(first.status).toBe(200);
    expect(first.json.search_query).toBeUndefined();
    // First the follow-up is condensed into a standalone question, then answered.
    fake.enqueue({ kind: 'answer', deltas: ['How long are weekly backups kept?'] }, { kind: 'answer', deltas: ['Weekly ones for three months.'] });
    const before = fake.requests.length;
    const second = await ask(h, { question: 'And weekly ones?', conversation_id: first.json.conversation_id }, withKey);
    expect(second.status).toBe(200);
    expect(second.json.conversation_id).toBe(first.json.conversation_id);
    expect(second.json.search_query).toBe('How long are weekly backups kept?');
    const condense = fake.requests[before]?.body;
    expect(JSON.stringify(condense?.system)).toContain('standalone search query');
    expect(condense?.messages.at(-1)).toEqual({ role: 'user', content: [{ type: 'text', text: 'Rewrite this follow-up as a standalone question: And weekly ones?' }] });
    const messages = fake.requests[before + 1]?.body.messages ?? [];
    expect(messages.slice(0, 2)).toEqual([
      { role: 'user', content: 'How long are daily backups kept?' },
      { role: 'assistant', content: 'Daily backups are kept for fourteen days.' },
    ]);
    const current = messages[2]?.content;
    expect(Array.isArray(current) ? current.at(-1) : null).toEqual({ type: 'text', text: expect.stringContaining('Question: And weekly ones?') });
    expect(Array.isArray(current) ? current.at(-1) : null).toEqual({ type: 'text', text: expect.stringContaining('(searched for: How long are weekly backups kept?)') });
    const conversation: Conversation = (await getJson(h, `/api/conversations/${first.json.conversation_id}`)).json;
    expect(conversation.turns).toBe(2);
    expect(conversation.title).toBe('How long are daily backups kept?');
  });

  it('refuses an unknown conversation_id with 404 and a bad body with 400', async () => {
    const unknown = await ask(h, { question: 'Anything?', conversation_id: 'no-such-conversation' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('not_found');
    const bad = await ask(h, { question: '' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('question');
  });

  it('lists (newest first), gets and deletes conversations; unknown ids are 404 JSON', async () => {
    const a = await ask(h, { question: 'First: how do I deploy the server with docker compose on the VM?' });
    await new Promise((r) => setTimeout(r, 5));
    const b = await ask(h, { question: 'Second: how long are weekly backups kept?' });
    const list = await getJson(h, '/api/conversations');
    expect(list.status).toBe(200);
    const summaries = list.json.conversations;
    expect(summaries[0]?.id).toBe(b.json.conversation_id);
    expect(summaries[1]?.id).toBe(a.json.conversation_id);
    expect(summaries[0]).toMatchObject({ title: 'Second: how long are weekly backups kept?', turns: 1 });
    const stamps = summaries.map((s) => s.updated_at);
    expect([...stamps].sort().reverse()).toEqual(stamps);

    const got = await getJson(h, `/api/conversations/${a.json.conversation_id}`);
    expect(got.json.history[0]?.question).toBe('First: how do I deploy the server with docker compose on the VM?');

    const deleted = await getJson(h, `/api/conversations/${a.json.conversation_id}`, 'DELETE');
    expect(deleted.status).toBe(200);
    expect((await getJson(h, `/api/conversations/${a.json.conversation_id}`)).status).toBe(404);
    const again = await getJson(h, `/api/conversations/${a.json.conversation_id}`, 'DELETE');
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('not_found');
    expect((await getJson(h, '/api/conversations/..%2F..%2Fetc')).status).toBe(404);
  });

  it('keeps conversations across a restart, and uses the server key when there is one', async () => {
    const first = await ask(h, { question: 'How do I rotate server tokens?' });
    expect(first.status).toBe(200);
    await h.close();
    // Same folders, new process state, and now a server-wide key.
    h = await startHarness({ ...env.env, ANTHROPIC_API_KEY: SERVER_KEY }, env.root);
    const got = await getJson(h, `/api/conversations/${first.json.conversation_id}`);
    expect(got.status).toBe(200);
    expect(got.json.history[0]?.question).toBe('How do I rotate server tokens?');

    const before = fake.requests.length;
    const next = await ask(h, { question: 'How often?', conversation_id: first.json.conversation_id });
    expect(next.status).toBe(200);
    expect(next.json.mode).toBe('claude');
    const sent = fake.requests[before];
    expect([SERVER_KEY, `Bearer ${SERVER_KEY}`]).toContain(sent?.headers['x-api-key'] ?? sent?.headers.authorization);
    expect(sent?.body.messages[0]).toEqual({ role: 'user', content: 'How do I rotate server tokens?' });
    expect((await getJson(h, `/api/conversations/${first.json.conversation_id}`)).json.turns).toBe(2);
    expect(h.logs.join('')).not.toContain(SERVER_KEY);
  });
});
