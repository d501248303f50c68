import { tokenize } from './tokenize.js';

const STOPWORDS = new Set(
  'a an and are as at be by can do does for from how i in is it of on or the to what when where which who why with you'.split(' '),
);

/** The distinct words of a query worth matching: no one-letter words, no question words or articles. */
export function queryTerms(query: string): string[] {
  return [...new Set(tokenize(query).filter((t) => t.length > 1 && !STOPWORDS.has(t)))];
}
