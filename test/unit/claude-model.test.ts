import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatModelError, type ChatEvent, type ChatRequest, type ChatResult } from '../../server/answers/chat-model.js';
import { ClaudeChatModel, resolveCredential, type ClaudeOptions } from '../../server/answers/claude.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';

const KEY = 'sk-ant-test-SECRET-0123456789';

let fake: AnthropicFake;
beforeAll(async () => {
  fake = await startAnthropicFake();
});
afterAll(async () => {
  await fake.close();
});

function model(overrides: Partial<ClaudeOptions> = {}): ClaudeChatModel {
  return new ClaudeChatModel({
    credential: { kind: 'apiKey', origin: 'env', value: KEY },
    model: 'claude-sonnet-5-5',
    maxTokens: 512,
    timeoutMs: 10_000,
    baseURL: fake.url,
    ...overrides,
  });
}

const request: ChatRequest = {
  system: 'Use only the context.',
  history: [
    { role: 'user', text: 'What is a chunk?' },
    { role: 'assistant', text: 'A chunk is a section of a file.' },
  ],
  blocks: [
    {
      source: 'guides/a.md#L1-L9',
      title: 'guides/a.md (Section: Intro)',
      paragraphs: [
        { text: 'First paragraph about backups.', start_line: 1, end_line: 3 },
        { text: 'Second paragraph about restores.', start_line: 5, end_line: 9 },
      ],
    },
    { source: 'guides/b.md#L3-L4', title: 'guides/b.md', paragraphs: [{ text: 'Other text.', start_line: 3, end_line: 4 }] },
  ],
  question: 'Question: how are backups kept?',
};

async function run(m: ClaudeChatModel, req: ChatRequest = request): Promise<{ events: ChatEvent[]; result: ChatResult }> {
  const events: ChatEvent[] = [];
  const gen = m.stream(req);
  for (;;) {
    const step = await gen.next();
    if (step.done) return { events, result: step.value };
    events.push(step.value);
  }
}

async function failure(m: ClaudeChatModel): Promise<{ error: ChatModelError; events: ChatEvent[] }> {
  const events: ChatEvent[] = [];
  try {
    for await (const e of m.stream(request)) events.push(e);
  } catch (e) {
    if (e instanceof ChatModelError) return { error: e, events };
    throw e;
  }
  throw new Error('expected the stream to fail');
}

describe('resolveCredential', () => {
  it('prefers the header key, then ANTHROPIC_API_KEY, then the gateway token', () => {
    const env = { ANTHROPIC_API_KEY: 'env-key', ANTHROPIC_AUTH_TOKEN: 'tok' };
    expect(resolveCredential(env, ' header-key ', 'ANTHROPIC_AUTH_TOKEN')).toEqual({ kind: 'apiKey', origin: 'header', value: 'header-key' });
    expect(resolveCredential(env, '', 'ANTHROPIC_AUTH_TOKEN')).toEqual({ kind: 'apiKey', origin: 'env', value: 'env-key' });
    expect(resolveCredential({ MY_GATEWAY: 'tok' }, undefined, 'MY_GATEWAY')).toEqual({ kind: 'authToken', origin: 'env', envVar: 'MY_GATEWAY', value: 'tok' });
    expect(resolveCredential({}, undefined, 'ANTHROPIC_AUTH_TOKEN')).toBeNull();
  });
});

describe('ClaudeChatModel against the fake Messages API', () => {
  it('streams text and native citations, with search_result blocks, cached system prompt and history', async () => {
    fake.enqueue({
      kind: 'answer',
      deltas: ['Backups ', 'are kept ', 'daily.'],
      citations: [{ afterDelta: 1, index: 0, startBlock: 1, endBlock: 2 }],
      usage: { input_tokens: 100, output_tokens: 7, cache_read_input_tokens: 50 },
    });
    const before = fake.requests.length;
    const { events, result } = await run(model());
    expect(events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.text : ''))).toEqual(['Backups ', 'are kept ', 'daily.']);
    expect(events.find((e) => e.type === 'citation')).toEqual({
      type: 'citation',
      citation: { block_index: 0, source: 'guides/a.md#L1-L9', cited_text: 'Second paragraph about restores.', start_paragraph: 1, end_paragraph: 2 },
    });
    expect(result).toEqual({
      usage: { input_tokens: 100, output_tokens: 7, cache_read_input_tokens: 50, cache_creation_input_tokens: 0 },
      stop_reason: 'end_turn',
      model: 'claude-sonnet-5-5',
    });

    const sent = fake.requests[before];
    expect(sent?.body.stream).toBe(true);
    expect(sent?.body.model).toBe('claude-sonnet-5-5');
    expect(sent?.body.max_tokens).toBe(512);
    expect(sent?.body.system).toEqual([{ type: 'text', text: 'Use only the context.', cache_control: { type: 'ephemeral' } }]);
    expect(sent?.body.messages.slice(0, 2)).toEqual([
      { role: 'user', content: 'What is a chunk?' },
      { role: 'assistant', content: 'A chunk is a section of a file.' },
    ]);
    const blocks = sent ? fake.searchResults(sent) : [];
    expect(blocks).toEqual([
      {
        type: 'search_result',
        source: 'guides/a.md#L1-L9',
        title: 'guides/a.md (Section: Intro)',
        content: [
          { type: 'text', text: 'First paragraph about backups.' },
          { type: 'text', text: 'Second paragraph about restores.' },
        ],
        citations: { enabled: true },
      },
      { type: 'search_result', source: 'guides/b.md#L3-L4', title: 'guides/b.md', content: [{ type: 'text', text: 'Other text.' }], citations: { enabled: true } },
    ]);
    const last = sent?.body.messages.at(-1);
    expect(Array.isArray(last?.content) ? last?.content.at(-1) : null).toEqual({ type: 'text', text: 'Question: how are backups kept?' });
    // This SDK sends an API key as a bearer token; older ones used x-api-key. Either way it is ours.
    const auth = sent?.headers['x-api-key'] ?? sent?.headers.authorization;
    expect([KEY, `Bearer ${KEY}`]).toContain(auth);
  });

  it('sends a gateway token as a bearer token', async () => {
    const before = fake.requests.length;
    await run(model({ credential: { kind: 'authToken', origin: 'env', envVar: 'ANTHROPIC_AUTH_TOKEN', value: 'gateway-token-123' } }));
    expect(fake.requests[before]?.headers.authorization).toBe('Bearer gateway-token-123');
    expect(fake.requests[before]?.headers['x-api-key']).toBeUndefined();
  });

  it('maps 401 to a message that names the fix and not the key', async () => {
    fake.enqueue({ kind: 'status', status: 401, type: 'authentication_error', message: `invalid x-api-key ${KEY}` });
    const { error } = await failure(model());
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('Anthropic rejected the API key');
    expect(error.message).toContain('ANTHROPIC_API_KEY');
    expect(error.message).not.toContain(KEY);
  });

  it('lets the SDK retry 429 honouring retry-after, then surfaces it with retry-after', async () => {
    const rateLimited = { kind: 'status', status: 429, type: 'rate_limit_error', message: 'slow down', headers: { 'retry-after': '7', 'retry-after-ms': '30' } } as const;
    fake.enqueue(rateLimited, rateLimited, rateLimited);
    const before = fake.requests.length;
    const { error } = await failure(model());
    expect(fake.requests.length - before).toBe(3);
    expect(error.kind).toBe('rate_limit');
    expect(error.retryAfter).toBe('7');
    expect(error.message).toContain('retry after 7 s');
  });

  it('succeeds when a retry gets through', async () => {
    fake.enqueue({ kind: 'status', status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after-ms': '20' } });
    const { result } = await run(model());
    expect(result.stop_reason).toBe('end_turn');
  });

  it('maps 529 overloaded_error to "overloaded"', async () => {
    const overloaded = { kind: 'status', status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after-ms': '20' } } as const;
    fake.enqueue(overloaded, overloaded, overloaded);
    const { error } = await failure(model());
    expect(error.kind).toBe('overloaded');
    expect(error.message).toBe('Claude is overloaded; try again shortly');
  });

  it('surfaces an error event mid-stream after the text already streamed', async () => {
    fake.enqueue({ kind: 'stream-error', deltas: ['Partial ', 'answer ', 'never sent'], afterDeltas: 2, errorType: 'api_error', message: 'Internal server error' });
    const { error, events } = await failure(model());
    expect(events.map((e) => (e.type === 'text' ? e.text : '')).join('')).toBe('Partial answer ');
    expect(error.kind).toBe('interrupted');
    // An overloaded_error event says more than "interrupted": the developer should wait, not just retry.
    fake.enqueue({ kind: 'stream-error', deltas: ['Partial '], afterDeltas: 1, errorType: 'overloaded_error' });
    expect((await failure(model())).error.kind).toBe('overloaded');
  });

  it('turns a dropped connection into "interrupted"', async () => {
    fake.enqueue({ kind: 'drop', deltas: ['Half ', 'an answer'], afterDeltas: 1 });
    const { error, events } = await failure(model());
    expect(events).toEqual([{ type: 'text', text: 'Half ' }]);
    expect(error.kind).toBe('interrupted');
  });

  it('reports an unreachable endpoint by name', async () => {
    const { error } = await failure(model({ baseURL: 'http://127.0.0.1:1', maxRetries: 0 }));
    expect(error.kind).toBe('connection');
    expect(error.message).toContain('http://127.0.0.1:1');
  });
});
