import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_CASES, runChatCase } from '../../eval/answers.js';
import type { Services } from '../../server/services.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const KEY = 'sk-ant-chat-cases-0123456789';

/**
 * The chat cases of issue 11 (point 7) against the starter library, as
 * `npm start` serves it: real SQLite, the local embedder, extractive answers;
 * and a follow-up condensed by Claude (the Anthropic fake) or, when Claude
 * cannot, by the conversation's terms.
 */
describe('chat answers on the starter library', () => {
  let env: TempEnv;
  let services: Services;
  let fake: AnthropicFake;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv({}, { copyLibrary: true });
    env.env.ANTHROPIC_BASE_URL = fake.url;
    services = await servicesFor(env.env, env.root);
    await services.indexer.indexAll();
  });

  afterAll(async () => {
    await services?.close();
    await fake?.close();
    env?.cleanup();
  });

  it.each(CHAT_CASES.filter((c) => c.required).map((c) => [c.name, c] as const))('extractive: %s', async (_name, c) => {
    const r = await runChatCase(services, c);
    if (c.quote !== null) {
      expect(r.rank, `${c.file} › ${c.section ?? ''} among the sources`).not.toBeNull();
      expect(r.rank ?? Infinity).toBeLessThanOrEqual(c.within);
      expect(r.answer.answer).toContain(c.quote);
      expect(r.answer.answer).not.toContain('The library has nothing on this');
    }
    expect(r.passed).toBe(true);
  });

  it('a follow-up without Claude records the term query it was searched with', async () => {
    const first = await services.answers.ask({ question: 'How do I create a server token?' });
    const next = await services.answers.ask({ question: 'And how do I rotate it if it leaks?', conversation_id: first.conversation_id });
    expect(next.search_query).toBe('rotate leaks server token');
    const saved = await services.conversations.get(first.conversation_id);
    expect(saved?.history.map((t) => t.search_query)).toEqual([undefined, 'rotate leaks server token']);
  });

  it('with Claude, a follow-up is searched with its standalone rewrite and answered from the rotation passage', async () => {
    fake.enqueue({ kind: 'answer', deltas: ['Operators run npm run token -- create alice.'] });
    const first = await services.answers.ask({ question: 'How do I create a server token?' }, { apiKey: KEY });
    expect(first.mode).toBe('claude');
    fake.enqueue({ kind: 'answer', deltas: ['How do I rotate a server token if it leaks?'] }, { kind: 'answer', deltas: ['Run npm run token -- rotate alice.'] });
    const before = fake.requests.length;
    const next = await services.answers.ask({ question: 'And how do I rotate it if it leaks?', conversation_id: first.conversation_id }, { apiKey: KEY });
    expect(next.search_query).toBe('How do I rotate a server token if it leaks?');
    const [condense, answer] = fake.requests.slice(before);
    // The rewrite request carries the conversation and no search results.
    expect(condense && fake.searchResults(condense)).toEqual([]);
    expect(condense?.body.messages[0]).toEqual({ role: 'user', content: 'How do I create a server token?' });
    const titles = (answer ? fake.searchResults(answer) : []).map((b) => b.title);
    expect(titles.slice(0, 3).some((t) => t.includes('security/tokens-keys-and-access.md') && t.includes('Rotating credentials'))).toBe(true);
  });

  it('with Claude unable to rewrite, the follow-up falls back to the conversation\'s terms', async () => {
    fake.enqueue({ kind: 'answer', deltas: ['Operators run npm run token -- create alice.'] });
    const first = await services.answers.ask({ question: 'How do I create a server token?' }, { apiKey: KEY });
    // A 400 is not retried by the SDK: the rewrite fails once, the answer goes through.
    fake.enqueue({ kind: 'status', status: 400, type: 'invalid_request_error', message: 'bad request' }, { kind: 'answer', deltas: ['Rotate it.'] });
    const before = fake.requests.length;
    const next = await services.answers.ask({ question: 'And how do I rotate it if it leaks?', conversation_id: first.conversation_id }, { apiKey: KEY });
    expect(next.mode).toBe('claude');
    expect(next.search_query).toBe('rotate leaks server token');
    const answer = fake.requests[before + 1];
    const titles = (answer ? fake.searchResults(answer) : []).map((b) => b.title);
    expect(titles.slice(0, 3).some((t) => t.includes('Rotating credentials'))).toBe(true);
  });
});
