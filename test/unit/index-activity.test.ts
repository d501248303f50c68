import { describe, expect, it } from 'vitest';
import type { IndexFileResult } from '../../shared/api-types.js';
import { IndexEvents, summarize } from '../../server/indexing/index-events.js';
import { IndexActivity } from '../../server/observability/index-activity.js';

const indexed = (file_path: string): IndexFileResult => ({ file_path, status: 'indexed', chunks: 2 });

describe("IndexActivity: /health's indexing, folded from the indexer's events", () => {
  it('is idle before any run and follows a run to its end', () => {
    const events = new IndexEvents();
    const activity = new IndexActivity(events);
    expect(activity.snapshot).toMatchObject({ state: 'idle', files_total: 0, files_done: 0, current: null, summary: null });

    events.publish({ type: 'run_started', run: 'a', progress: { files_total: 2, files_done: 0, current: null } });
    events.publish({ type: 'file_started', run: 'a', file: 'x.md', progress: { files_total: 2, files_done: 0, current: 'x.md' } });
    expect(activity.snapshot).toMatchObject({ state: 'running', files_total: 2, files_done: 0, current: 'x.md', finished_at: null });
    expect(Date.parse(activity.snapshot.started_at ?? '')).not.toBeNaN();

    events.publish({ type: 'file_done', run: 'a', result: indexed('x.md'), progress: { files_total: 2, files_done: 1, current: null } });
    events.publish({ type: 'file_done', run: 'a', result: indexed('y.md'), progress: { files_total: 2, files_done: 2, current: null } });
    events.publish({ type: 'run_ended', run: 'a', outcome: 'done', summary: summarize([indexed('x.md'), indexed('y.md')], 0.5), error: null });
    expect(activity.snapshot).toMatchObject({ state: 'done', files_total: 2, files_done: 2, current: null, error: null, summary: { indexed: 2, chunks: 4 } });
    expect(Date.parse(activity.snapshot.finished_at ?? '')).not.toBeNaN();
  });

  it('keeps showing the run under way when another run starts and ends beside it, and ignores uploads', () => {
    const events = new IndexEvents();
    const activity = new IndexActivity(events);
    events.publish({ type: 'run_started', run: 'job', progress: { files_total: 40, files_done: 0, current: null } });
    events.publish({ type: 'file_done', run: 'job', result: indexed('a.md'), progress: { files_total: 40, files_done: 1, current: null } });

    // A one-file run (a document's DELETE) and an upload while the job runs.
    events.publish({ type: 'run_started', run: 'delete', progress: { files_total: 1, files_done: 0, current: null } });
    events.publish({ type: 'file_done', run: null, result: indexed('up.md'), progress: { files_total: 1, files_done: 1, current: null } });
    expect(activity.snapshot).toMatchObject({ state: 'running', files_total: 40, files_done: 1 });
    events.publish({ type: 'file_done', run: 'delete', result: { file_path: 'gone.md', status: 'deleted', chunks: 3 }, progress: { files_total: 1, files_done: 1, current: null } });
    events.publish({ type: 'run_ended', run: 'delete', outcome: 'done', summary: summarize([], 0), error: null });
    expect(activity.snapshot).toMatchObject({ state: 'running', files_total: 40, files_done: 1 });

    events.publish({ type: 'file_done', run: 'job', result: indexed('b.md'), progress: { files_total: 40, files_done: 2, current: null } });
    events.publish({ type: 'run_ended', run: 'job', outcome: 'failed', summary: summarize([indexed('a.md'), indexed('b.md')], 1), error: 'disk full' });
    expect(activity.snapshot).toMatchObject({ state: 'failed', files_total: 40, files_done: 2, error: 'disk full', summary: { indexed: 2 } });
  });

  it('ignores events of a run it never saw start', () => {
    const events = new IndexEvents();
    const activity = new IndexActivity(events);
    events.publish({ type: 'file_done', run: 'unknown', result: indexed('a.md'), progress: { files_total: 9, files_done: 9, current: null } });
    events.publish({ type: 'run_ended', run: 'unknown', outcome: 'done', summary: summarize([indexed('a.md')], 0), error: null });
    expect(activity.snapshot.state).toBe('idle');
  });

  it('a listener that throws does not stop the others', () => {
    const events = new IndexEvents();
    events.subscribe(() => {
      throw new Error('a broken progress bar');
    });
    const activity = new IndexActivity(events);
    expect(() => events.publish({ type: 'run_started', run: 'a', progress: { files_total: 1, files_done: 0, current: null } })).not.toThrow();
    expect(activity.snapshot.state).toBe('running');
  });
});
