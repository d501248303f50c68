import { describe, expect, it } from 'vitest';
import type { DocumentSummary, HealthResponse, TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';
import { describeAnswerMode, exampleQuestions } from '../../extension/chat-welcome.js';

const doc = (title: string, chunks: number): DocumentSummary => ({
  file_path: `${title}.md`,
  title,
  chunks,
  content_type: 'markdown',
  confidence: 0.9,
  contributor: null,
  indexed_at: '2026-01-01T00:00:00Z',
});

const node = (id: string, docs: DocumentSummary[], children: TaxonomyTreeNode[] = []): TaxonomyTreeNode => ({
  id,
  name: id,
  description: '',
  full_path: id,
  document_count: docs.length + children.reduce((n, c) => n + c.document_count, 0),
  documents: docs,
  children,
});

const health = (detail: string, status: 'up' | 'down' = 'up'): HealthResponse => ({
  status: 'ok',
  version: '1',
  store: { kind: 'sqlite', points: 10 },
  embedder: { id: 'local' },
  indexing: { state: 'idle' } as HealthResponse['indexing'],
  dependencies: {
    store: { status: 'up', latency_ms: 1, detail: '' },
    embedder: { status: 'up', latency_ms: 1, detail: '' },
    llm: { status, latency_ms: null, detail },
  },
});

describe('chat welcome', () => {
  it('three example questions from different top-level categories, busiest first', () => {
    const tax: TaxonomyResponse = {
      total_documents: 6,
      categories: [
        node('operations', [], [node('operations/deployment', [doc('Deploying the gateway', 5), doc('Rollbacks', 2)])]),
        node('security', [], [node('security/tokens', [doc('Tokens, keys and access', 9), doc('x', 1), doc('y', 1)])]),
        node('uncategorized', [doc('Scratch', 1)]),
        node('getting-started', [doc('Quick start.', 3)]),
      ],
    };
    expect(exampleQuestions(tax)).toEqual([
      'What does the library say about Tokens, keys and access?',
      'What does the library say about Deploying the gateway?',
      'What does the library say about Quick start?',
    ]);
    expect(exampleQuestions({ total_documents: 0, categories: [] })).toEqual([]);
  });

  it('says how questions are answered and why', () => {
    expect(describeAnswerMode(true, null, 'down')).toEqual({ kind: 'claude', key: 'developer' });
    expect(describeAnswerMode(false, health("Claude answers with the server's key (not probed)"), null)).toEqual({ kind: 'claude', key: 'server' });
    const none = describeAnswerMode(false, health('no server Anthropic key: answers are extractive unless a developer sends their own key'), null);
    expect(none.kind).toBe('extractive');
    expect(none.kind === 'extractive' && none.reason).toMatch(/Set Anthropic API Key/);
    const open = describeAnswerMode(false, health('Claude unavailable (circuit open)', 'down'), null);
    expect(open).toEqual({ kind: 'extractive', reason: 'because Claude unavailable (circuit open)' });
    expect(describeAnswerMode(false, null, 'connection refused').kind).toBe('unknown');
  });
});
