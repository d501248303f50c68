import type { ConversationTurn, SearchResult } from '../../shared/api-types.js';
import { reciprocalRankFusion } from '../fusion/rrf.js';
import type { ChatModel, ChatResult, ChatTurn } from './chat-model.js';
import { has, lemma, lemmas, topicWords } from './terms.js';

/**
 * A follow-up ("And how do I rotate it if it leaks?") names its topic only
 * through the conversation. Searched alone it finds whatever "rotate" and
 * "leaks" find; searched with the conversation's topic it finds rotating a
 * server token (README, "Answers").
 */

/** The previous turn's top sources whose headings confirm which of its question's words were the topic. */
const TOPIC_SOURCES = 3;
/** A condensed question longer than this is an answer, not a question: the term query is used instead. */
const MAX_CONDENSED_CHARS = 300;
/** Earlier answers are cut to this much in the condense request: the topic is near the start, and tokens cost. */
const CONDENSE_ANSWER_CHARS = 600;

export const CONDENSE_SYSTEM_PROMPT = `You rewrite the last question of a conversation about a team's knowledge library as a standalone search query.

Rules:
- Replace words like "it", "that", "this" and "they" with what they refer to in the conversation.
- Keep the question's own intent and words; add only the topic from earlier turns.
- Do not answer the question. Reply with the rewritten question only, on one line.`;

/** How a follow-up was searched: with Claude's standalone rewrite, or with the conversation's terms. */
export interface ContextualQuery {
  query: string;
  /** The conversation's topic terms, for weighing the extractive answer's units. */
  contextTerms: string[];
  condensedBy: 'claude' | 'terms';
}

/** The query a turn was searched with (older turns did not record it: their question). */
function searchedWith(turn: ConversationTurn): string {
  return turn.search_query ?? turn.question;
}

/**
 * The conversation's topic, from its last turn: the words of what it searched
 * for that its top sources' headings also name ("server token" of "How do I
 * create a server token?", not "create"), or all of them when no heading
 * names any. The last turn's query already carries earlier topics, so a chain
 * of follow-ups keeps them.
 */
export function conversationTopic(history: ConversationTurn[]): string[] {
  const last = history.at(-1);
  if (!last) return [];
  const asked = topicWords(searchedWith(last));
  const headings = lemmas(last.sources.slice(0, TOPIC_SOURCES).map((s) => s.section).join('\n'));
  const confirmed = asked.filter((w) => has(headings, lemma(w)));
  return confirmed.length > 0 ? confirmed : asked;
}

/**
 * The question searched on its topic words alone: beside a contextual query,
 * "And how do I … it if it …" must not rank passages by its fillers.
 */
export function ownQuery(question: string): string {
  return topicWords(question).join(' ') || question;
}

/** The term-based standalone query: the question's own topic words and the conversation's. */
export function termQuery(question: string, history: ConversationTurn[]): ContextualQuery | null {
  const own = new Set(topicWords(question).map(lemma));
  const topic = conversationTopic(history).filter((w) => !own.has(lemma(w)));
  if (topic.length === 0) return null;
  return { query: `${ownQuery(question)} ${topic.join(' ')}`, contextTerms: topic, condensedBy: 'terms' };
}

function toCondenseTurns(history: ConversationTurn[]): ChatTurn[] {
  return history
    .filter((t) => t.answer.trim() !== '')
    .flatMap((t): ChatTurn[] => [
      { role: 'user', text: t.question },
      { role: 'assistant', text: t.answer.length > CONDENSE_ANSWER_CHARS ? `${t.answer.slice(0, CONDENSE_ANSWER_CHARS)}…` : t.answer },
    ]);
}

/**
 * Claude's standalone rewrite of a follow-up, through the same ChatModel port
 * as answers (no search results attached). Throws what the model throws; null
 * when the reply is no usable question.
 */
export async function condenseQuestion(
  model: ChatModel,
  question: string,
  history: ConversationTurn[],
  signal?: AbortSignal,
): Promise<{ query: string; result: ChatResult } | null> {
  const stream = model.stream({
    system: CONDENSE_SYSTEM_PROMPT,
    history: toCondenseTurns(history),
    blocks: [],
    question: `Rewrite this follow-up as a standalone question: ${question}`,
    signal,
  });
  let text = '';
  for (;;) {
    const step = await stream.next();
    if (step.done) {
      const query = text.trim().split('\n')[0]?.trim() ?? '';
      return query && query.length <= MAX_CONDENSED_CHARS ? { query, result: step.value } : null;
    }
    if (step.value.type === 'text') text += step.value.text;
  }
}

/**
 * Both searches' results in one ranking, by reciprocal rank fusion: the
 * question's own words keep its meaning, the contextual query brings the
 * topic, and a passage both rank high (rotating a server token) comes first.
 */
export function fuseResults(asked: SearchResult[], contextual: SearchResult[], limit: number): SearchResult[] {
  const fused = reciprocalRankFusion([asked, contextual]);
  const byId = new Map<string, SearchResult>();
  for (const r of [...contextual, ...asked]) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...fused]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .flatMap(([id]) => {
      const r = byId.get(id);
      return r ? [r] : [];
    });
}
