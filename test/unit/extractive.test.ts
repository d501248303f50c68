import { describe, expect, it } from 'vitest';
import type { RetrievedSource } from '../../server/answers/context.js';
import { EXTRACTIVE_NOTE, extractiveAnswer, NOTHING_FOUND, sentenceUnits } from '../../server/answers/extractive.js';

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
    expect(res.citations).toEqual([
      {
        source_index: 1,
        file_path: 'operations/backup-and-restore.md',
        cited_text: 'Daily backups are kept for 14 days and weekly backups for 8 weeks.',
        start_line: 42,
        end_line: 42,
      },
    ]);
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

  it('never quotes code, tables, headings or front matter', () => {
    const units = sentenceUnits(['---', 'title: Backups', 'category: operations/backup-restore', '---', '# Backups', backup.content].join('\n'), 1);
    const text = units.map((u) => u.text).join('\n');
    expect(text).not.toContain('npm run backup');
    expect(text).not.toContain('| daily');
    expect(text).not.toContain('title:');
    expect(text).not.toMatch(/^#/m);
    expect(text).toContain('Backups run every night at 02:00.');
  });
});
