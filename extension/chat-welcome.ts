/**
 * What the empty chat says: which server, how it will answer (Claude with whose
 * key, or extractive quotes and why) and three questions drawn from the
 * library's own taxonomy, so a newcomer sees what the library knows.
 */
import type { HealthResponse, TaxonomyResponse, TaxonomyTreeNode } from '../shared/api-types.js';
import type { AnswerModeInfo } from '../shared/webview-protocol.js';

const EXAMPLE_COUNT = 3;

/** server/reliability/dependency-health.ts says this when the server has no Anthropic credential of its own. */
const NO_SERVER_KEY = /no server Anthropic key/i;

export function describeAnswerMode(hasDeveloperKey: boolean, health: HealthResponse | null, healthError: string | null): AnswerModeInfo {
  if (hasDeveloperKey) return { kind: 'claude', key: 'developer' };
  if (!health) return { kind: 'unknown', reason: `the server did not answer (${healthError ?? 'no reply'}).` };
  const llm = health.dependencies?.llm;
  if (!llm) return { kind: 'unknown', reason: 'this server does not report whether it has an Anthropic key.' };
  if (NO_SERVER_KEY.test(llm.detail)) {
    return { kind: 'extractive', reason: 'because neither the server nor VS Code has an Anthropic API key. Set yours with "AI Library: Set Anthropic API Key".' };
  }
  if (llm.status === 'down') return { kind: 'extractive', reason: `because ${llm.detail}` };
  return { kind: 'claude', key: 'server' };
}

interface Candidate {
  top: string;
  title: string;
  count: number;
}

function collect(node: TaxonomyTreeNode, top: string, out: Candidate[]): void {
  const doc = [...node.documents].sort((a, b) => b.chunks - a.chunks)[0];
  if (doc) out.push({ top, title: doc.title || node.name, count: node.document_count });
  for (const child of node.children) collect(child, top, out);
}

/**
 * One question per top-level category (the busiest first), about the largest
 * document of its busiest branch, so the examples spread over the library.
 */
export function exampleQuestions(taxonomy: TaxonomyResponse, count = EXAMPLE_COUNT): string[] {
  const candidates: Candidate[] = [];
  for (const top of taxonomy.categories) if (top.id !== 'uncategorized') collect(top, top.id, candidates);
  candidates.sort((a, b) => b.count - a.count);
  const questions: string[] = [];
  const usedTops = new Set<string>();
  for (const pass of [true, false]) {
    for (const c of candidates) {
      if (questions.length >= count) break;
      if (pass && usedTops.has(c.top)) continue;
      const q = `What does the library say about ${c.title.replace(/[.?!:]+$/, '')}?`;
      if (questions.includes(q)) continue;
      usedTops.add(c.top);
      questions.push(q);
    }
  }
  return questions;
}
