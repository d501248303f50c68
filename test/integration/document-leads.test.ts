import { afterEach, describe, expect, it } from 'vitest';
import type { SearchResult } from '../../shared/api-types.js';
import { DocumentLeads } from '../../server/retrieval/document-leads.js';
import type { Services } from '../../server/services.js';
import { servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

// A guide whose one section happens to hold the query's words, and the page
// about the subject, which says so in its opening and then goes into options.
const filler = (topic: string, n: number) =>
  Array.from({ length: n }, (_, i) => `Paragraph ${i} on ${topic} covers setup steps, naming rules and a worked example for new starters.`).join('\n\n');

const GUIDE = `# Team Handbook

Welcome to the handbook. It walks new starters through the tools the team uses every day.

## Editors

${filler('editors', 6)}

## Looking back at work

To look back at what the team did, show the commit logs of the branch beside the review notes.

## Reviews

${filler('reviews', 6)}
`;

const PAGE = `# History

Lists the commit logs of the repository, newest first, one entry per commit.

## Options

${filler('output options', 6)}

## Formatting

${filler('formats', 6)}
`;

const QUERY = 'show commit logs';

/** Pages on other subjects, so that the query's words are rare, as in a real library (BM25 discounts a word most chunks hold). */
const OTHERS = Object.fromEntries(
  ['deploys', 'alerts', 'budgets', 'hiring', 'backups', 'tokens'].map((topic) => [`other/${topic}.md`, `# ${topic}\n\n${filler(topic, 4)}\n`]),
);

let env: TempEnv | null = null;
let services: Services | null = null;

afterEach(async () => {
  await services?.close();
  env?.cleanup();
  services = null;
  env = null;
});

async function library(files: Record<string, string>): Promise<Services> {
  env = tempEnv(files);
  services = await servicesFor(env.env, env.root);
  await services.indexer.indexAll();
  return services;
}

const where = (results: SearchResult[]) => results.map((r) => `${r.file_path} › ${r.section}`);

describe('search: the lead of a document', () => {
  it('ranks the page whose opening names the subject above a guide section that repeats the words', async () => {
    const s = await library({ ...OTHERS, 'guides/handbook.md': GUIDE, 'commands/history.md': PAGE });
    for (const mode of ['hybrid', 'keyword'] as const) {
      const results = (await s.search.search({ query: QUERY, mode, n_results: 10 })).results;
      const ranked = where(results);
      expect(ranked[0], mode).toBe('commands/history.md › History');
      expect(ranked[1], mode).toBe('guides/handbook.md › Team Handbook > Looking back at work');
      // The page's later sections keep their own rank, below the guide's section.
      if (mode === 'hybrid') expect(ranked.slice(2)).toContain('commands/history.md › History > Formatting');
    }
  });

  it('follows a document that is re-indexed with another opening', async () => {
    const s = await library({ ...OTHERS, 'guides/handbook.md': GUIDE, 'commands/history.md': PAGE });
    expect(where((await s.search.search({ query: QUERY, n_results: 3 })).results)[0]).toBe('commands/history.md › History');
    env!.write('commands/history.md', PAGE.replace('Lists the commit logs of the repository, newest first, one entry per commit.', 'Describes the output switches.'));
    await s.indexer.indexAll();
    expect(where((await s.search.search({ query: QUERY, n_results: 3 })).results)[0]).toBe('guides/handbook.md › Team Handbook > Looking back at work');
  });

  it('reads leads of prose documents only: a source file opens with imports, not with what it does', async () => {
    const code = `import { logs } from './commit';\nimport { show } from './show';\n\nexport function tally(values: number[]): number {\n  return values.reduce((a, b) => a + b, 0);\n}\n`;
    const s = await library({ ...OTHERS, 'commands/history.md': PAGE, 'src/tally.ts': code });
    const candidates = await s.store.search({ mode: 'keyword', text: QUERY, limit: 10 });
    expect(new Set(candidates.map((c) => c.payload.file_path))).toEqual(new Set(['commands/history.md', 'src/tally.ts']));
    const leads = await new DocumentLeads(s.store).of(candidates);
    expect([...leads.keys()]).toEqual(['commands/history.md']);
    expect([...leads.get('commands/history.md')!].slice(0, 6)).toEqual(['histori', 'list', 'the', 'commit', 'log', 'of']);
  });
});
