import { tokenize } from '../text/tokenize.js';
import { queryTerms } from '../text/query-terms.js';

/**
 * The words of a question that name its topic, and a forgiving way to find
 * them in text: shared by extractive answers and follow-up expansion.
 */

/**
 * Words that carry no topic in a question ("my requests are being throttled",
 * "rotate it if it leaks") beyond retrieval's stopwords: counting them would
 * demand that a sentence repeat the asker's pronouns to be quoted.
 */
const FUNCTION_WORDS = new Set(
  'am been being was were has have had having me my mine our ours we us your yours he she him her his its they them their this that these those there here if then than so also just into onto about some any each should would could will shall may might must'.split(
    ' ',
  ),
);

/** Irregular forms common in technical prose; regular inflections are handled by suffixes and prefixes. */
const IRREGULAR: Record<string, string> = {
  kept: 'keep', built: 'build', ran: 'run', sent: 'send', made: 'make', found: 'find', wrote: 'write', written: 'write',
  chose: 'choose', chosen: 'choose', held: 'hold', left: 'leave', lost: 'lose', paid: 'pay', got: 'get', gotten: 'get',
  gave: 'give', given: 'give', took: 'take', taken: 'take', went: 'go', gone: 'go', saw: 'see', seen: 'see',
  began: 'begin', begun: 'begin', broke: 'break', broken: 'break', hidden: 'hide', knew: 'know', known: 'know',
  shown: 'show', spent: 'spend', stood: 'stand', told: 'tell', thought: 'think', understood: 'understand', rewritten: 'rewrite',
};

/** A rough lemma: enough for `keeps`/`kept`/`keep` or `retries`/`retry` to meet. */
export function lemma(word: string): string {
  const w = IRREGULAR[word] ?? word;
  if (w.length <= 4) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ing') && w.length > 5) return w.slice(0, -3);
  if (w.endsWith('ed') && w.length > 4) return w.slice(0, -2);
  if (w.endsWith('es') && /(ss|sh|ch|x|z)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/**
 * Two lemmas match when equal, or when they share a long common prefix
 * (`authenticate`/`authentication`, `config`/`configuration`).
 */
function wordsMatch(a: string, b: string): boolean {
  if (a === b) return true;
  const shorter = Math.min(a.length, b.length);
  if (shorter < 4) return false;
  let i = 0;
  while (i < shorter && a[i] === b[i]) i++;
  return i >= 4 && i >= 0.8 * shorter;
}

export function lemmas(text: string): Set<string> {
  return new Set(tokenize(text).map(lemma));
}

export function has(words: Set<string>, term: string): boolean {
  if (words.has(term)) return true;
  for (const w of words) if (wordsMatch(term, w)) return true;
  return false;
}

/**
 * A prefix of one or two letters hyphened to a word (`re-index`, `co-author`,
 * `de-duplicate`): it modifies the word and names no topic of its own, so
 * only the word is a term; as a term of its own, `re` would make any sentence
 * with `re-run` or `re-check` look like an answer. An acronym (`CI-only`)
 * is a word, not a prefix, and stays.
 */
const HYPHEN_PREFIX = /\b[A-Za-z][a-z]?-([a-z]{3,})/g;

/** The words of a question that name its topic, as written (for a search); its function words only when it has nothing else. */
export function topicWords(text: string): string[] {
  const all = queryTerms(text.replace(HYPHEN_PREFIX, '$1'));
  const topical = all.filter((t) => !FUNCTION_WORDS.has(t));
  return topical.length > 0 ? topical : all;
}

/** The question's topic terms as lemmas (for matching). */
export function topicTerms(text: string): string[] {
  return [...new Set(topicWords(text).map(lemma))];
}

