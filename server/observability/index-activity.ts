import type { IndexingStatus } from '../../shared/api-types.js';
import type { IndexEvent, IndexEventSource } from '../indexing/index-events.js';

const IDLE: IndexingStatus = {
  state: 'idle',
  files_total: 0,
  files_done: 0,
  current: null,
  started_at: null,
  finished_at: null,
  summary: null,
  error: null,
};

/**
 * GET /health's `indexing`, folded from the indexer's events. Each run keeps
 * its own numbers, so a snapshot always describes one run: the oldest one still
 * under way, else the last one that ended. Jobs run one at a time; a run outside
 * them (a document's DELETE removes its chunks as a one-file run) cannot reset
 * the progress of the job it overlaps. Uploads are part of no run and do not show.
 */
export class IndexActivity {
  private readonly running = new Map<string, IndexingStatus>();
  private last: IndexingStatus = IDLE;

  constructor(events: IndexEventSource) {
    events.subscribe((event) => this.apply(event));
  }

  get snapshot(): IndexingStatus {
    const [oldest] = this.running.values();
    return { ...(oldest ?? this.last) };
  }

  private apply(event: IndexEvent): void {
    if (event.run === null) return;
    if (event.type === 'run_started') {
      this.running.set(event.run, { ...IDLE, ...event.progress, state: 'running', started_at: new Date().toISOString() });
      return;
    }
    const status = this.running.get(event.run);
    if (!status) return;
    if (event.type !== 'run_ended') {
      this.running.set(event.run, { ...status, ...event.progress });
      return;
    }
    this.running.delete(event.run);
    this.last = { ...status, state: event.outcome, current: null, finished_at: new Date().toISOString(), summary: event.summary, error: event.error };
  }
}
