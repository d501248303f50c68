import { describe, expect, it } from 'vitest';
import type { AnswerSource, ConversationTurn, SearchResult } from '../../shared/api-types.js';
import { conversationTopic, fuseResults, ownQuery, termQuery } from '../../server/answers/follow-up.js';

function source(section: string): AnswerSource {
  return {
    index: 1,
    id: section,
    file_path: 'security/tokens.md',
    section,
    start_line: 1,
    end_line: 2,
    score: 1,
    snippet: '',
    taxonomy: { full_path: 'security/access-control', level1: 'security', level2: 'access-control' },
  };
}

function turn(question: string, sections: string[], search_query?: string): ConversationTurn {
  return {
    question,
    answer: 'Operators create tokens on the server.',
    sources: sections.map(source),
    citations: [],
    confidence: 0.5,
    mode: 'extractive',
    incomplete: false,
    created_at: '2026-01-01T00:00:00.000Z',
    ...(search_query === undefined ? {} : { search_query }),
  };
}

function result(id: string): SearchResult {
  return {
    id,
    score: 1,
    content: id,
    file_path: `${id}.md`,
    section: '',
    start_line: 1,
    end_line: 1,
    taxonomy: { full_path: 'uncategorized', level1: 'uncategorized', level2: null },
    content_type: 'markdown',
    scores: { dense: 0.5, keyword: 1, fused: 0.1 },
  };
}

describe('follow-up questions', () => {
  it('takes the topic from the words of the last question that its sources\' headings name', () => {
    const history = [turn('How do I create a server token?', ['Tokens, Keys and Access > Server tokens', 'Production Deployment > Start'])];
    expect(conversationTopic(history)).toEqual(['server', 'token']);
    // No heading names any of them: all its topic words.
    expect(conversationTopic([turn('How do I create a server token?', ['Backups'])])).toEqual(['create', 'server', 'token']);
    expect(conversationTopic([])).toEqual([]);
  });

  it('keeps the topic along a chain of follow-ups through the recorded search query', () => {
    const history = [
      turn('How do I create a server token?', ['Tokens > Server tokens']),
      turn('And how do I rotate it?', ['Tokens > Rotating credentials > A developer\'s server token'], 'rotate server token'),
    ];
    expect(termQuery('What if it leaks?', history)).toEqual({ query: 'leaks rotate server token', contextTerms: ['rotate', 'server', 'token'], condensedBy: 'terms' });
  });

  it('searches the question\'s own topic words, and adds nothing when the conversation adds nothing', () => {
    expect(ownQuery('And how do I rotate it if it leaks?')).toBe('rotate leaks');
    expect(ownQuery('Is it?')).toBe('Is it?');
    expect(termQuery('How do I create a server token?', [turn('How do I create a server token?', ['Server tokens'])])).toBeNull();
  });

  it('fuses both rankings: a passage both rank high comes first, each result once, ties in the question\'s order', () => {
    const fused = fuseResults([result('rotation'), result('secrets'), result('incident'), result('server-tokens')], [result('server-tokens'), result('rotation'), result('auth')], 4);
    expect(fused.map((r) => r.id)).toEqual(['rotation', 'server-tokens', 'secrets', 'incident']);
  });
});
