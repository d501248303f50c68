import type { IndexFileResult, IndexProgress, IndexSummary } from '../../shared/api-types.js';

/**
 * What the indexer reports, as one stream (docs/architecture.md, "Path of an
 * index request"): JobRunner (a job's progress and results), the metrics, the
 * CLI's progress bar (through its job) and /health all read these events and
 * nothing else. A run is one `indexAll` or `indexPath` call; `run` is the id
 * its caller gave (a job's id) or a fresh one.
 */
export type IndexEvent =
  /** A full or folder run has listed its files (`progress.files_total`). */
  | { type: 'run_started'; run: string; progress: IndexProgress }
  /** A run began a file (`progress.current` names it). */
  | { type: 'file_started'; run: string; file: string; progress: IndexProgress }
  /** A file is done. `run` null: an upload, indexed on its own outside any run. */
  | { type: 'file_done'; run: string | null; result: IndexFileResult; progress: IndexProgress }
  /** A run ended: every file done, stopped by its signal, or failed (`error`: what its caller was thrown). */
  | { type: 'run_ended'; run: string; outcome: 'done' | 'cancelled' | 'failed'; summary: IndexSummary; error: string | null };

export type IndexListener = (event: IndexEvent) => void;

/** The reading side of the stream, for those who only listen. */
export interface IndexEventSource {
  /** Every event from now on; returns the unsubscribe function. */
  subscribe(listener: IndexListener): () => void;
}

/** The stream one indexer publishes to. */
export class IndexEvents implements IndexEventSource {
  private readonly listeners = new Set<IndexListener>();

  subscribe(listener: IndexListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: IndexEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener (a metric, a progress bar, a job record) must not break the run it watches.
      }
    }
  }
}

export function summarize(files: IndexFileResult[], seconds: number): IndexSummary {
  const count = (s: IndexFileResult['status']) => files.filter((f) => f.status === s).length;
  return {
    indexed: count('indexed'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed: count('failed'),
    deleted: count('deleted'),
    chunks: files.reduce((n, f) => n + (f.status === 'indexed' ? f.chunks : 0), 0),
    seconds: Math.round(seconds * 1000) / 1000,
  };
}
