import { describe, expect, it } from 'vitest';
import type { RetrievedSource } from '../../server/answers/context.js';
import { answerUnits, EXTRACTIVE_NOTE, extractiveAnswer, NOTHING_FOUND } from '../../server/answers/extractive.js';
import { topicTerms } from '../../server/answers/terms.js';

function source(index: number, file_path: string, content: string, start_line = 1, relevance = 0.5): RetrievedSource {
  return {
    source: {
      index,
      id: `id-${index}`,
      file_path,
      section: '',
      start_line,
      end_line: start_line + content.split('\n').length - 1,
      score: 1,
      snippet: content.slice(0, 40),
      taxonomy: { full_path: 'uncategorized', level1: 'uncategorized', level2: null },
    },
    content,
    content_type: 'markdown',
    relevance,
    // Keyword side absent: no passage counts as agreed-on unless a test says so.
    signals: { dense: relevance, keyword: null },
  };
}

const backup = source(
  1,
  'operations/backup-and-restore.md',
  [
    '## Retention',
    '',
    'Backups run every night at 02:00. Daily backups are kept for 14 days and weekly backups for 8 weeks.',
    '',
    '```bash',
    'npm run backup -- --keep 14',
    '```',
    '',
    '| Kind | Kept |',
    '|------|------|',
    '| daily | 14 days |',
  ].join('\n'),
  40,
);
const deploy = source(2, 'operations/production-deployment.md', 'Deploy with docker compose up -d on the VM. The health check answers on port 8000.', 10);
const restore = source(3, 'operations/backup-and-restore.md', 'To restore, stop the server and unpack the newest backup archive into the data folder.', 80);
const migration = source(4, 'operations/migration.md', 'Backups made before a migration are kept until you delete them by hand.', 5);

describe('extractiveAnswer', () => {
  it('starts with the extractive note and quotes the matching sentence with its marker', () => {
    const res = extractiveAnswer('How long are backups kept?', [backup, deploy]);
    expect(res.answer.startsWith(EXTRACTIVE_NOTE)).toBe(true);
    expect(res.answer).toContain('Daily backups are kept for 14 days and weekly backups for 8 weeks. [1]');
    expect(res.answer).not.toContain('docker compose');
    expect(res.empty).toBe(false);
    // "Backups run every night" names backups but not how long: below the cutoff, left out.
    expect(res.answer).not.toContain('Backups run every night');
    expect(res.citations[0]).toEqual({
      source_index: 1,
      file_path: 'operations/backup-and-restore.md',
      cited_text: 'Daily backups are kept for 14 days and weekly backups for 8 weeks.',
      start_line: 42,
      end_line: 42,
    });
  });

  it('prefers one sentence per document, in retrieval order, each with its own marker', () => {
    const sameFileBest = source(5, 'operations/migration.md', 'After a migration, backups of the old store are kept for a long while.', 30);
    const res = extractiveAnswer('How long are backups kept?', [backup, restore, migration, sameFileBest]);
    // One sentence from each matching document, the better of migration.md's two, listed by retrieval rank.
    expect(res.citations.map((c) => c.source_index)).toEqual([1, 5]);
    const lines = res.answer.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toEqual([
      '- Daily backups are kept for 14 days and weekly backups for 8 weeks. [1]',
      '- After a migration, backups of the old store are kept for a long while. [5]',
    ]);
  });

  it('matches inflected and irregular forms (backups / backup, kept / keeps)', () => {
    const res = extractiveAnswer('How long are backups kept?', [source(1, 'a.md', 'Production keeps each backup archive for seven days.')]);
    expect(res.citations).toHaveLength(1);
  });

  it('counts a term named only in the heading path, and prefers higher-ranked chunks', () => {
    const underHeading = source(1, 'ops/backup.md', 'Production runs this daily and keeps seven days of archives.', 30, 0.5);
    underHeading.source.section = 'Backup and Restore > Daily backups';
    underHeading.source.score = 1.1;
    const offTopic = source(2, 'guides/search.md', 'CamelCase identifiers are split into their parts as well as kept whole.', 12, 0.5);
    offTopic.source.score = 1.0;
    const res = extractiveAnswer('How long are backups kept?', [underHeading, offTopic]);
    expect(res.citations.map((c) => c.file_path)).toEqual(['ops/backup.md']);
  });

  it('says honestly that the library has nothing when no sentence matches', () => {
    const res = extractiveAnswer('What is the capital of France?', [backup, deploy]);
    expect(res.empty).toBe(true);
    expect(res.citations).toEqual([]);
    expect(res.answer).toContain(NOTHING_FOUND);
    expect(res.answer.startsWith(EXTRACTIVE_NOTE)).toBe(true);
    expect(extractiveAnswer('How long are backups kept?', []).empty).toBe(true);
  });

  it('never quotes tables, headings or front matter; keeps a short code block whole', () => {
    const units = answerUnits(['---', 'title: Backups', 'category: operations/backup-restore', '---', '# Backups', backup.content].join('\n'), 1);
    const text = units.map((u) => u.text).join('\n');
    expect(text).not.toContain('| daily');
    expect(text).not.toContain('title:');
    expect(text).not.toMatch(/^#/m);
    expect(text).toContain('Backups run every night at 02:00.');
    const code = units.find((u) => u.code !== null);
    expect(code).toMatchObject({ text: '', heading: 'Retention', code: { fence: '```bash', lines: ['npm run backup -- --keep 14'] } });
  });

  it('quotes a list with the sentence that introduces it, so the command is quoted with when to run it', () => {
    const guide = source(
      1,
      'guides/how-indexing-works.md',
      [
        '## When to re-index everything',
        '',
        'Run `npm run index -- --all` after you:',
        '',
        '- edit `configs/taxonomy.yaml`, so documents are classified again;',
        '- change the `chunking` settings;',
        '- restore `library/` from a backup.',
        '',
        'Changing the embedder is different: vectors from two embedders cannot share a store.',
      ].join('\n'),
      108,
    );
    const units = answerUnits(guide.content, 108);
    expect(units.map((u) => u.text)).toEqual([
      'Run `npm run index -- --all` after you: edit `configs/taxonomy.yaml`, so documents are classified again; change the `chunking` settings; restore `library/` from a backup.',
      'Changing the embedder is different: vectors from two embedders cannot share a store.',
    ]);
    expect(units[0]).toMatchObject({ start_line: 110, end_line: 114, heading: 'When to re-index everything' });
    // Alone, the introducer names only "index" of the question's terms and the last item only "library":
    // the answer quoted the item, not the command.
    const res = extractiveAnswer('How do I re-index the whole library?', [guide]);
    expect(res.answer).toContain('Run `npm run index -- --all` after you:');
    expect(res.citations[0]?.cited_text).toContain('npm run index -- --all');
  });

  it('keeps list items their own units when no sentence ending in a colon introduces them', () => {
    const units = answerUnits(['Indexing skips some files.', '', '- secrets such as `.env` files and keys;', '- binary files such as images.'].join('\n'), 1);
    expect(units.map((u) => u.text)).toEqual(['Indexing skips some files.', 'secrets such as `.env` files and keys;', 'binary files such as images.']);
  });

  it('quotes the command a sentence introduces, whole, with the sentence', () => {
    const tokens = source(
      1,
      'security/tokens.md',
      ['## Server tokens', '', 'Operators create tokens on the server, one per person:', '', '```bash', 'npm run token -- create alice', 'npm run token -- create ops --admin', '```', '', 'The token is printed once.'].join('\n'),
      20,
    );
    tokens.source.section = 'Tokens > Server tokens';
    const other = source(2, 'guides/vscode.md', 'Paste the server token with the Set Server Token command when the server asks for one.', 5);
    const res = extractiveAnswer('How do I create a server token?', [tokens, other]);
    expect(res.citations[0]).toEqual({
      source_index: 1,
      file_path: 'security/tokens.md',
      cited_text: 'Operators create tokens on the server, one per person:\n```bash\nnpm run token -- create alice\nnpm run token -- create ops --admin\n```',
      start_line: 22,
      end_line: 27,
    });
    expect(res.answer).toContain('- Operators create tokens on the server, one per person: [1]\n\n  ```bash\n  npm run token -- create alice\n  npm run token -- create ops --admin\n  ```');
  });

  it('quotes a code block without a lead-in under its heading when its words answer', () => {
    const rotation = source(
      1,
      'security/tokens.md',
      ['## Rotating credentials', '', 'Rotate a credential when someone leaves or a device is lost.', '', "### A developer's server token", '', '```bash', 'npm run token -- rotate alice', '```'].join('\n'),
      60,
    );
    const res = extractiveAnswer('How do I rotate a server token?', [rotation]);
    expect(res.answer).toContain("- A developer's server token: [1]\n\n  ```bash\n  npm run token -- rotate alice\n  ```");
  });

  it('quotes the top passage on one shared term when every retrieval signal agrees on it', () => {
    const limits = source(1, 'ops/troubleshooting.md', 'Indexing sends more requests than the provider allows; on 429 the server backs off and honours Retry-After.', 70, 0.4);
    limits.source.section = 'Troubleshooting > 429 Too Many Requests';
    limits.signals = { dense: 0.4, keyword: 4.4 };
    const weaker = source(2, 'security/access.md', 'Every request needs a bearer token.', 10, 0.1);
    weaker.signals = { dense: 0.1, keyword: 3.5 };
    // Three topic terms (requests, throttled, upstream); only one is in the library.
    const question = 'Why are my requests throttled upstream?';
    const agreed = extractiveAnswer(question, [limits, weaker]);
    expect(agreed.empty).toBe(false);
    expect(agreed.citations.map((c) => c.file_path)).toEqual(['ops/troubleshooting.md']);
    // The same passage when the keyword side ranks another one higher: not a clear match, nothing quoted.
    weaker.signals = { dense: 0.1, keyword: 9 };
    expect(extractiveAnswer(question, [limits, weaker]).empty).toBe(true);
  });

  it("lets a follow-up's context terms choose among units matching the question alike", () => {
    const others = ['qdrant', 'mistral', 'anthropic', 'openai'].map((name, i) => source(i + 1, `ops/${name}.md`, `Rotate the ${name} key in the console and restart the server.`, 1));
    const token = source(5, 'security/tokens.md', 'Rotate a developer token with the token command; the old one stops working.', 1);
    const files = (context: string[]) => extractiveAnswer('How do I rotate it?', [...others, token], EXTRACTIVE_NOTE, context).citations.map((c) => c.file_path);
    // Four units at most: alone, the question reaches the token page last and leaves it out.
    expect(files([])).not.toContain('security/tokens.md');
    expect(files(['developer', 'token'])).toContain('security/tokens.md');
    expect(files(['developer', 'token'])).toHaveLength(4);
  });

  it("reads a code block's comments as its caption: the command whose comment says what was asked is the answer, even from a lower-ranked passage", () => {
    // Issue 11's chat case: the first passage re-indexes a folder; the whole library's command is further down, captioned by its comment.
    const secret = source(
      1,
      'security/secret-handling.md',
      ['## When a secret is exposed', '', 'Edit or delete the document in `library/` and re-index its folder:', '', '```bash', 'npm run index -- --path library/<folder>', '```'].join('\n'),
      30,
    );
    const indexing = source(
      2,
      'guides/how-indexing-works.md',
      ['### From the command line', '', '```bash', 'npm run index -- --all                  # the whole library', 'npm run index -- --path library/guides  # one folder', '```'].join('\n'),
      16,
    );
    const res = extractiveAnswer('How do I re-index the whole library?', [secret, indexing]);
    const cited = res.citations.find((c) => c.cited_text.includes('npm run index -- --all'));
    expect(cited).toMatchObject({ file_path: 'guides/how-indexing-works.md', start_line: 18, end_line: 21 });
    // Kept whole, under its heading.
    expect(res.answer).toContain('- From the command line: [2]\n\n  ```bash\n  npm run index -- --all                  # the whole library\n  npm run index -- --path library/guides  # one folder\n  ```');
  });
});

describe('topicTerms', () => {
  it('keeps the word of a hyphened prefix, not the prefix; an acronym before a hyphen stays a term', () => {
    expect(topicTerms('How do I re-index the whole library?')).toEqual(['index', 'whole', 'library']);
    expect(topicTerms('Re-run the CI-only checks')).toEqual(['run', 'ci', 'only', 'check']);
  });
});
