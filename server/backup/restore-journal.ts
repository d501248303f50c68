import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { atomicWrite } from '../storage/atomic-write.js';

/**
 * A restore in progress, written to DATA_DIR before it changes anything and
 * removed when it is done. Found at the next start or restore, it means the
 * last restore was killed half-way: the server refuses to serve a
 * half-restored library, and running the same restore again finishes it
 * (folders already moved aside are not moved aside a second time, so the
 * content from before the restore is never overwritten).
 */
const JournalSchema = z.object({
  archive: z.string(),
  started_at: z.string(),
  /** Section → where its previous content was moved. */
  asides: z.record(z.string()),
  store: z.enum(['pending', 'started', 'done']),
});
export type RestoreJournal = z.infer<typeof JournalSchema>;

export function journalFile(dataDir: string): string {
  return path.join(dataDir, 'restore-journal.json');
}

/** The journal of an interrupted restore, or null. An unreadable journal counts as interrupted, archive unknown. */
export function interruptedRestore(dataDir: string): RestoreJournal | null {
  const file = journalFile(dataDir);
  if (!existsSync(file)) return null;
  try {
    return JournalSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { archive: '(unknown: the journal is damaged)', started_at: '', asides: {}, store: 'started' };
  }
}

export async function writeJournal(dataDir: string, journal: RestoreJournal): Promise<void> {
  await atomicWrite(journalFile(dataDir), JSON.stringify(journal), 0o600);
}

export function removeJournal(dataDir: string): void {
  rmSync(journalFile(dataDir), { force: true });
}

/** The one line the server and the CLI print when they find one. */
export function interruptedMessage(journal: RestoreJournal): string {
  return `a restore of ${journal.archive} was interrupted${journal.started_at ? ` (started ${journal.started_at})` : ''}; finish it with "npm run restore -- ${journal.archive} --force" before starting the server`;
}
