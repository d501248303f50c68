import type { IndexFileResult, IndexingProgress, IndexSummary } from '../../shared/api-types.js';

/** What a running index pass reports; /health and the CLI read it. */
export class IndexProgress {
  private value: IndexingProgress = {
    state: 'idle',
    files_total: 0,
    files_done: 0,
    current: null,
    started_at: null,
    finished_at: null,
    summary: null,
    error: null,
  };

  get snapshot(): IndexingProgress {
    return { ...this.value };
  }

  start(total: number): void {
    this.value = { ...this.value, state: 'running', files_total: total, files_done: 0, current: null, started_at: new Date().toISOString(), finished_at: null, error: null };
  }

  step(current: string): void {
    this.value.current = current;
  }

  fileDone(): void {
    this.value.files_done += 1;
  }

  finish(summary: IndexSummary, state: 'done' | 'cancelled' = 'done'): void {
    const finished = new Date();
    const seconds = this.value.started_at ? (finished.getTime() - Date.parse(this.value.started_at)) / 1000 : summary.seconds;
    this.value = { ...this.value, state, current: null, finished_at: finished.toISOString(), summary: { ...summary, seconds } };
  }

  fail(error: string): void {
    this.value = { ...this.value, state: 'failed', current: null, finished_at: new Date().toISOString(), error };
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
