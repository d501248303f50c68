import { describe, expect, it } from 'vitest';
import type { AnswerSource, AskResponse, Conversation } from '../../shared/api-types.js';
import { STOPPED_CODE, type ToWebview } from '../../shared/webview-protocol.js';
import { initialState, reduce, restoreState, type ChatAction, type ChatState } from '../../extension/webview/state.js';

const source = (index: number): AnswerSource => ({
  index,
  id: `00000000-0000-4000-8000-00000000000${index}`,
  file_path: `guides/doc-${index}.md`,
  section: 'Intro',
  start_line: index,
  end_line: index + 4,
  score: 0.9 - index / 10,
  snippet: 'text',
  taxonomy: { full_path: 'guides', level1: 'guides', level2: null },
});

const response = (over: Partial<AskResponse> = {}): AskResponse => ({
  answer: 'Final answer [1].',
  sources: [source(1)],
  citations: [{ source_index: 1, file_path: 'guides/doc-1.md', cited_text: 'text', start_line: 1, end_line: 5 }],
  confidence: 0.75,
  conversation_id: 'conv_a',
  mode: 'claude',
  model: 'claude-sonnet-4-5',
  incomplete: false,
  usage: null,
  ...over,
});

function run(actions: ChatAction[], from: ChatState = initialState()): ChatState {
  return actions.reduce(reduce, from);
}

const start = (turnId = 't1', question = 'How do I search?'): ToWebview => ({ type: 'streamStart', turnId, question });

describe('chat state reducer', () => {
  it('starts a streaming turn and appends deltas in order', () => {
    const s = run([
      start(),
      { type: 'sources', turnId: 't1', sources: [source(1), source(2)], conversationId: 'conv_a', mode: 'claude' },
      { type: 'streamDelta', turnId: 't1', text: 'Use ' },
      { type: 'streamDelta', turnId: 't1', text: 'hybrid [1]' },
    ]);
    expect(s.activeTurnId).toBe('t1');
    expect(s.conversationId).toBe('conv_a');
    expect(s.turns).toHaveLength(1);
    expect(s.turns[0]).toMatchObject({ question: 'How do I search?', answer: 'Use hybrid [1]', status: 'streaming', mode: 'claude' });
    expect(s.turns[0]?.sources).toHaveLength(2);
  });

  it('finishes on done with the authoritative answer and frees the input', () => {
    const s = run([start(), { type: 'streamDelta', turnId: 't1', text: 'Fin' }, { type: 'streamDone', turnId: 't1', response: response() }]);
    expect(s.activeTurnId).toBeNull();
    expect(s.turns[0]).toMatchObject({ answer: 'Final answer [1].', status: 'done', confidence: 0.75, incomplete: false });
    expect(s.turns[0]?.citations).toHaveLength(1);
    expect(s.conversationId).toBe('conv_a');
  });

  it('keeps the streamed text when done carries an empty answer', () => {
    const s = run([start(), { type: 'streamDelta', turnId: 't1', text: 'streamed' }, { type: 'streamDone', turnId: 't1', response: response({ answer: '' }) }]);
    expect(s.turns[0]?.answer).toBe('streamed');
  });

  it('keeps the partial answer on error and records the message and actions', () => {
    const s = run([
      start(),
      { type: 'sources', turnId: 't1', sources: [source(1)], conversationId: 'conv_a', mode: 'claude' },
      { type: 'streamDelta', turnId: 't1', text: 'Half an ans' },
      { type: 'streamError', turnId: 't1', code: 'upstream_error', message: 'AI Library: answering failed: Anthropic timed out', actions: ['retry'], partial: null },
    ]);
    expect(s.activeTurnId).toBeNull();
    expect(s.turns[0]).toMatchObject({ answer: 'Half an ans', status: 'error', incomplete: true });
    expect(s.turns[0]?.error).toEqual({ code: 'upstream_error', message: 'AI Library: answering failed: Anthropic timed out', actions: ['retry'] });
    expect(s.turns[0]?.sources).toHaveLength(1);
  });

  it('takes the server partial when it has more than what streamed', () => {
    const s = run([
      start(),
      { type: 'streamDelta', turnId: 't1', text: 'Half' },
      { type: 'streamError', turnId: 't1', code: 'x', message: 'm', actions: [], partial: response({ answer: 'Half an answer', incomplete: true }) },
    ]);
    expect(s.turns[0]?.answer).toBe('Half an answer');
    expect(s.turns[0]?.sources).toHaveLength(1);
  });

  it('marks a stopped stream as stopped, not as an error', () => {
    const s = run([start(), { type: 'streamDelta', turnId: 't1', text: 'so far' }, { type: 'streamError', turnId: 't1', code: STOPPED_CODE, message: 'Stopped.', actions: [], partial: null }]);
    expect(s.turns[0]).toMatchObject({ status: 'stopped', answer: 'so far', error: null });
  });

  it('ignores deltas after the turn ended and deltas for unknown turns', () => {
    const done = run([start(), { type: 'streamDone', turnId: 't1', response: response() }]);
    const after = run([{ type: 'streamDelta', turnId: 't1', text: ' late' }, { type: 'streamDelta', turnId: 'nope', text: 'x' }], done);
    expect(after.turns[0]?.answer).toBe('Final answer [1].');
    expect(after.turns).toHaveLength(1);
  });

  it('records the extractive note on its turn', () => {
    const s = run([start(), { type: 'extractiveNote', turnId: 't1', text: 'No Anthropic API key: answers are extractive quotes.' }]);
    expect(s.turns[0]?.note).toContain('extractive');
  });

  it('clears everything on new chat', () => {
    const s = run([start(), { type: 'streamDone', turnId: 't1', response: response() }, { type: 'newChat' }]);
    expect(s.turns).toEqual([]);
    expect(s.conversationId).toBeNull();
    expect(s.activeTurnId).toBeNull();
    expect(s.panel).toBe('chat');
  });

  it('lists history, loads a conversation and deletes one', () => {
    const summary = { id: 'conv_b', title: 'Search modes', turns: 2, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z' };
    const conversation: Conversation = {
      ...summary,
      history: [
        { question: 'q1', answer: 'a1 [1]', sources: [source(1)], citations: [], confidence: 0.5, mode: 'extractive', incomplete: false, created_at: summary.created_at },
        { question: 'q2', answer: 'a2', sources: [], citations: [], confidence: 0.4, mode: 'claude', incomplete: true, created_at: summary.updated_at },
      ],
    };
    let s = run([{ type: 'showHistory' }]);
    expect(s.panel).toBe('history');
    expect(s.history.loading).toBe(true);
    s = run([{ type: 'history', conversations: [summary, { ...summary, id: 'conv_c', title: 'Other' }], error: null }], s);
    expect(s.history).toMatchObject({ loading: false, error: null });
    expect(s.history.items.map((c) => c.id)).toEqual(['conv_b', 'conv_c']);

    s = run([{ type: 'conversationLoaded', conversation }], s);
    expect(s.panel).toBe('chat');
    expect(s.conversationId).toBe('conv_b');
    expect(s.turns.map((t) => [t.question, t.answer, t.status, t.mode])).toEqual([
      ['q1', 'a1 [1]', 'done', 'extractive'],
      ['q2', 'a2', 'done', 'claude'],
    ]);

    s = run([{ type: 'conversationDeleted', id: 'conv_c' }], s);
    expect(s.history.items.map((c) => c.id)).toEqual(['conv_b']);
    expect(s.turns).toHaveLength(2);
    s = run([{ type: 'conversationDeleted', id: 'conv_b' }], s);
    expect(s.turns).toEqual([]);
    expect(s.conversationId).toBeNull();
  });

  it('shows a history error instead of an empty list', () => {
    const s = run([{ type: 'showHistory' }, { type: 'history', conversations: [], error: 'AI Library server not reachable at http://127.0.0.1:8000.' }]);
    expect(s.history.error).toContain('not reachable');
    expect(s.history.loading).toBe(false);
  });

  it('a second question continues the same conversation and marks an abandoned stream stopped', () => {
    const s = run([start('t1'), { type: 'sources', turnId: 't1', sources: [], conversationId: 'conv_a', mode: 'claude' }, start('t2', 'And then?')]);
    expect(s.turns.map((t) => t.status)).toEqual(['stopped', 'streaming']);
    expect(s.conversationId).toBe('conv_a');
    expect(s.activeTurnId).toBe('t2');
  });

  it('survives persistence: a turn saved mid-stream comes back stopped and incomplete', () => {
    const s = run([start(), { type: 'streamDelta', turnId: 't1', text: 'partial' }, { type: 'ui/draft', text: 'next question' }]);
    const restored = restoreState(JSON.parse(JSON.stringify(s)));
    expect(restored.turns[0]).toMatchObject({ answer: 'partial', status: 'stopped', incomplete: true });
    expect(restored.activeTurnId).toBeNull();
    expect(restored.draft).toBe('next question');
  });

  it('starts fresh from unreadable saved state', () => {
    expect(restoreState(undefined)).toEqual(initialState());
    expect(restoreState({ version: 99 })).toEqual(initialState());
    expect(restoreState({ version: 1, turns: [{ nonsense: true }] }).turns).toEqual([]);
  });

  it('records copy/insert acknowledgements as a dismissible notice', () => {
    let s = run([{ type: 'insertAck', ok: false, message: 'No editor to insert into' }]);
    expect(s.notice).toEqual({ ok: false, message: 'No editor to insert into' });
    s = run([{ type: 'ui/dismissNotice' }], s);
    expect(s.notice).toBeNull();
  });
});

describe('chat state: context chips, regenerate, welcome (issue 14)', () => {
  const context = { file: 'src/rate_limiter.py', start_line: 3, end_line: 9, language: 'python', code: 'class TokenBucket: ...' };

  it('a selection waits as the composer chip, can be removed, and goes with the next question', () => {
    let s = run([{ type: 'attachContext', context }]);
    expect(s.attachment).toEqual(context);
    expect(run([{ type: 'ui/detach' }], s).attachment).toBeNull();
    s = run([{ type: 'streamStart', turnId: 't1', question: 'What is this?', context }], s);
    expect(s.attachment).toBeNull();
    expect(s.turns[0]?.context).toEqual(context);
    expect(s.turns[0]?.question).toBe('What is this?');
  });

  it('a regenerated answer takes the place of the one it replaces', () => {
    const s = run([start('t1'), { type: 'streamDone', turnId: 't1', response: response() }, { type: 'streamStart', turnId: 't2', question: 'How do I search?', replaces: 't1' }]);
    expect(s.turns.map((t) => t.id)).toEqual(['t2']);
    expect(s.activeTurnId).toBe('t2');
  });

  it('keeps the model that answered and the note action', () => {
    const s = run([
      start('t1'),
      { type: 'extractiveNote', turnId: 't1', text: 'No key', action: 'setAnthropicKey' },
      { type: 'streamDone', turnId: 't1', response: response() },
    ]);
    expect(s.turns[0]?.model).toBe('claude-sonnet-4-5');
    expect(s.turns[0]?.noteAction).toBe('setAnthropicKey');
  });

  it('stores the welcome and survives a reload with the chip', () => {
    const welcome = { serverUrl: 'http://127.0.0.1:1', mode: { kind: 'claude' as const, key: 'server' as const }, examples: ['What?'] };
    const s = run([{ type: 'welcome', welcome }, { type: 'attachContext', context }]);
    expect(s.welcome).toEqual(welcome);
    expect(restoreState(JSON.parse(JSON.stringify(s))).attachment).toEqual(context);
  });
});
