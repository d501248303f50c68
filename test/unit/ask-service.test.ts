import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SearchRequest, SearchResponse, SearchResult } from '../../shared/api-types.js';
import { AnswerError, AskService } from '../../server/answers/ask-service.js';
import { ChatModelError, type ChatEvent, type ChatModel, type ChatRequest, type ChatResult } from '../../server/answers/chat-model.js';
import { ConversationStore } from '../../server/answers/conversations.js';
import { CONDENSE_SYSTEM_PROMPT } from '../../server/answers/follow-up.js';
import type { Config } from '../../server/config/settings.js';
import type { SearchService } from '../../server/retrieval/search.js';

function result(i: number, file_path: string, content: string): SearchResult {
  return {
    id: `00000000-0000-0000-0000-00000000000${i}`,
    score: 1 - i / 10,
    content,
    file_path,
    section: 'Intro',
    start_line: 1,
    end_line: 3,
    taxonomy: { full_path: 'uncategorized', level1: 'uncategorized', level2: null },
    content_type: 'markdown',
    scores: { dense: 0.6, keyword: 2, fused: 0.03 },
  };
}

const RESULTS = [result(1, 'ops/backups.md', 'Daily backups are kept for fourteen days.'), result(2, 'ops/restore.md', 'Restore from the newest archive.')];

function searchStub(results: SearchResult[]): SearchService {
  const stub = {
    search: async (req: SearchRequest): Promise<SearchResponse> => ({ query: req.query, mode: 'hybrid', results, took_ms: 1 }),
  };
  return stub as unknown as SearchService;
}

/** A model that plays a script; records requests and whether its stream was closed. */
class ScriptedModel implements ChatModel {
  readonly model = 'claude-test';
  requests: ChatRequest[] = [];
  closed = false;
  constructor(private readonly script: Array<ChatEvent | Error>, private readonly stop = 'end_turn') {}
  async *stream(request: ChatRequest): AsyncGenerator<ChatEvent, ChatResult, void> {
    this.requests.push(request);
    try {
      for (const step of this.script) {
        if (step instanceof Error) throw step;
        yield step;
      }
      return { usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, stop_reason: this.stop, model: this.model };
    } finally {
      this.closed = true;
    }
  }
}

describe('AskService', () => {
  let dir: string;
  let conversations: ConversationStore;
  const config = { settings: { sessions: { path: '', auto_save: true } } } as unknown as Config;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-ask-'));
    conversations = new ConversationStore(path.join(dir, 'sessions'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const service = (model: ChatModel | null) => new AskService({ config, search: searchStub(RESULTS), conversations, chatModelFor: () => model });

  it('answers with native citations mapped to sources, usage and confidence, and saves the turn', async () => {
    const model = new ScriptedModel([
      { type: 'text', text: 'Fourteen days.' },
      { type: 'citation', citation: { block_index: 0, source: 'ops/backups.md#L1-L3', cited_text: 'Daily backups are kept for fourteen days.', start_paragraph: 0, end_paragraph: 1 } },
    ]);
    const res = await service(model).ask({ question: 'How long are backups kept?' });
    expect(res).toMatchObject({ answer: 'Fourteen days.', mode: 'claude', model: 'claude-test', incomplete: false });
    expect(res.citations).toEqual([{ source_index: 1, file_path: 'ops/backups.md', cited_text: 'Daily backups are kept for fourteen days.', start_line: 1, end_line: 1 }]);
    expect(res.confidence).toBeGreaterThan(0);
    expect(model.requests[0]?.blocks.map((b) => b.source)).toEqual(['ops/backups.md#L1-L3', 'ops/restore.md#L1-L3']);
    expect((await conversations.get(res.conversation_id))?.turns).toBe(1);
  });

  it('marks an answer cut by max_tokens as incomplete', async () => {
    const res = await service(new ScriptedModel([{ type: 'text', text: 'Fourteen' }], 'max_tokens')).ask({ question: 'How long are backups kept?' });
    expect(res.incomplete).toBe(true);
  });

  it('throws before any text without saving; after text with the partial answer saved', async () => {
    const early = service(new ScriptedModel([new ChatModelError('auth', 'Anthropic rejected the API key: fix it')]));
    await expect(early.ask({ question: 'How long are backups kept?' })).rejects.toMatchObject({ code: 'anthropic_unauthorized', partial: null });
    expect(await conversations.list()).toEqual([]);

    const late = service(new ScriptedModel([{ type: 'text', text: 'Fourteen ' }, new ChatModelError('interrupted', 'dropped')]));
    const error = await late.ask({ question: 'How long are backups kept?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnswerError);
    const partial = error instanceof AnswerError ? error.partial : null;
    expect(partial).toMatchObject({ answer: 'Fourteen ', incomplete: true });
    const saved = await conversations.get(partial?.conversation_id ?? '');
    expect(saved?.history[0]).toMatchObject({ answer: 'Fourteen ', incomplete: true });
  });

  it('closes the model stream when the reader stops early', async () => {
    const model = new ScriptedModel([
      { type: 'text', text: 'one ' },
      { type: 'text', text: 'two ' },
      { type: 'text', text: 'three' },
    ]);
    const events = service(model).stream({ question: 'How long are backups kept?' });
    expect((await events.next()).value).toMatchObject({ event: 'sources' });
    expect((await events.next()).value).toMatchObject({ event: 'delta', data: { text: 'one ' } });
    await events.return();
    expect(model.closed).toBe(true);
  });

  it('sends the last five turns as history, oldest first', async () => {
    const model = new ScriptedModel([{ type: 'text', text: 'ok' }]);
    const svc = service(model);
    let id: string | undefined;
    for (let i = 1; i <= 7; i++) id = (await svc.ask({ question: `question ${i} about backups`, conversation_id: id })).conversation_id;
    const history = model.requests.at(-1)?.history ?? [];
    expect(history.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['question 2 about backups', 'question 3 about backups', 'question 4 about backups', 'question 5 about backups', 'question 6 about backups']);
    expect(history.every((t, i) => t.role === (i % 2 === 0 ? 'user' : 'assistant'))).toBe(true);
  });

  it('condenses a follow-up through the model and searches both the question and the rewrite', async () => {
    const queries: string[] = [];
    const search = {
      search: async (req: SearchRequest): Promise<SearchResponse> => {
        queries.push(req.query);
        return { query: req.query, mode: 'hybrid', results: RESULTS, took_ms: 1 };
      },
    } as unknown as SearchService;
    const model = new ScriptedModel([{ type: 'text', text: 'How long are weekly backups kept?\nExtra line.' }]);
    const svc = new AskService({ config, search, conversations, chatModelFor: () => model });
    const first = await svc.ask({ question: 'How long are daily backups kept?' });
    const next = await svc.ask({ question: 'And weekly ones?', conversation_id: first.conversation_id });
    // First question: one search. Follow-up: its own words, then the rewrite's first line.
    expect(queries).toEqual(['How long are daily backups kept?', 'weekly ones', 'How long are weekly backups kept?']);
    expect(next.search_query).toBe('How long are weekly backups kept?');
    const condense = model.requests[1];
    expect(condense?.system).toBe(CONDENSE_SYSTEM_PROMPT);
    expect(condense?.blocks).toEqual([]);
    expect(condense?.history.map((t) => t.role)).toEqual(['user', 'assistant']);
  });

  it('stops when the reader cancels during the rewrite, instead of answering for nobody', async () => {
    const first = await service(null).ask({ question: 'How long are backups kept?' });
    const cancelled = new ScriptedModel([new ChatModelError('aborted', 'the request was cancelled')]);
    await expect(service(cancelled).ask({ question: 'And restores?', conversation_id: first.conversation_id })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('quotes extractively without a model, and skips the model when nothing was retrieved', async () => {
    const extractive = await service(null).ask({ question: 'How long are backups kept?' });
    expect(extractive.mode).toBe('extractive');
    expect(extractive.citations[0]?.file_path).toBe('ops/backups.md');
    const model = new ScriptedModel([{ type: 'text', text: 'never' }]);
    const empty = await new AskService({ config, search: searchStub([]), conversations, chatModelFor: () => model }).ask({ question: 'Anything?' });
    expect(empty.answer).toContain('The library has nothing on this');
    expect(model.requests).toHaveLength(0);
  });
});
