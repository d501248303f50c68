import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import type { IndexFileResult, IndexResponse } from '../../shared/api-types.js';
import { summarize } from '../indexing/index-events.js';
import { isFinished, type JobRequest } from '../jobs/job-runner.js';
import type { Services } from '../services.js';
import { reclassify } from '../taxonomy/reclassify.js';
import { withServices } from './with-services.js';

function printSummary(res: IndexResponse): void {
  const { summary: s } = res;
  const problems = res.files.filter((f) => f.status === 'failed' || f.status === 'skipped');
  for (const f of problems) console.log(`  ${f.status.padEnd(7)} ${f.file_path}: ${f.reason ?? ''}`);
  console.log(
    `indexed ${s.indexed}, unchanged ${s.unchanged}, skipped ${s.skipped}, failed ${s.failed}, deleted ${s.deleted}; ${s.chunks} chunks in ${s.seconds.toFixed(1)} s`,
  );
}

/** A bar on a terminal; plain lines in CI logs, where a redrawn bar is noise. */
function progressReporter(): { onFile: (r: IndexFileResult, done: number, total: number) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'indexing [{bar}] {value}/{total} {file}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
    let started = false;
    return {
      onFile: (r, done, total) => {
        if (!started) bar.start(total, 0, { file: '' });
        started = true;
        bar.update(done, { file: r.file_path });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onFile: (r, done, total) => console.error(`[${done}/${total}] ${r.status} ${r.file_path}${r.reason ? ` (${r.reason})` : ''}`),
    stop: () => undefined,
  };
}

/** `--path library/guides` (from the shell) and `--path guides` (as in results) both work. */
function libraryRelative(services: Services, input: string): string {
  const abs = path.resolve(input);
  const lib = services.config.paths.library;
  if (abs === lib || abs.startsWith(lib + path.sep)) return path.relative(lib, abs).split(path.sep).join('/');
  return input;
}

/**
 * Runs the index as a job, like the server's API: same runner, same progress
 * events, and a record in DATA_DIR that GET /api/library/jobs shows. Ctrl-C
 * cancels it cleanly (files under way finish); a second Ctrl-C quits at once.
 */
async function runIndex(services: Services, opts: { all?: boolean; path?: string }): Promise<number> {
  const progress = progressReporter();
  const rel = opts.path === undefined ? '' : libraryRelative(services, opts.path);
  const request: JobRequest = rel ? { kind: 'path', path: rel, requestedBy: 'cli' } : { kind: 'all', requestedBy: 'cli' };
  let jobId: string | null = null;
  const interrupt = () => {
    if (jobId) services.jobs.cancel(jobId);
    console.error('\ncancelling: finishing the files under way (Ctrl-C again quits at once)');
  };
  process.once('SIGINT', interrupt);
  try {
    // The bar follows the indexer's events of this job's run.
    const { job, existing } = await services.jobs.submit(request, (event) => {
      if (event.type === 'index' && event.event.type === 'file_done') {
        progress.onFile(event.event.result, event.event.progress.files_done, event.event.progress.files_total);
      }
    });
    jobId = job.id;
    if (existing && !isFinished(job.state)) {
      // The same index already runs (the server's, started by a developer or an admin): its result is this one's.
      console.error(`ai-library: the same index already runs as job ${job.id} (GET /api/library/jobs/${job.id}); waiting for it to end`);
    }
    const finished = await services.jobs.wait(job.id);
    progress.stop();
    if (!finished) {
      console.error(`ai-library: index job ${job.id} has no record any more in DATA_DIR; run the index again`);
      return 1;
    }
    if (finished.state === 'failed') {
      console.error(`ai-library: index job ${finished.id} failed: ${finished.error ?? 'unknown error'}`);
      return 1;
    }
    const res: IndexResponse = { files: finished.results, summary: finished.summary ?? summarize(finished.results, 0) };
    printSummary(res);
    if (finished.state === 'cancelled') {
      console.error(`cancelled after ${finished.results.length} of ${finished.progress.files_total} files; the index holds what was done, run it again to finish`);
      return 130;
    }
    return res.summary.failed > 0 ? 2 : 0;
  } finally {
    process.off('SIGINT', interrupt);
    progress.stop();
  }
}

/** Re-files stored documents under the current taxonomy from their stored vectors (no re-embedding). */
async function runReclassify(services: Services): Promise<number> {
  const res = await reclassify({ store: services.store, classifier: services.classifier, libraryRoot: services.config.paths.library });
  for (const m of res.moves) console.log(`  moved   ${m.file_path}: ${m.from.full_path} -> ${m.to.full_path} (${m.confidence.toFixed(2)})`);
  console.log(`reclassified ${res.files} documents: ${res.moves.length} moved, ${res.changed} updated, ${res.unchanged} unchanged; ${res.members} shape the centroids; ${res.seconds.toFixed(1)} s`);
  return 0;
}

export function registerIndexCommand(program: Command): void {
  program
    .command('index')
    .description('index the library (incremental: unchanged files are skipped)')
    .option('--all', 'index every file in the library and drop files that are gone')
    .option('--path <path>', 'index one file or folder, relative to the library')
    .option('--reclassify', 're-file every indexed document under the current taxonomy from stored vectors (after indexing, if --all or --path is given)')
    .action(async (opts: { all?: boolean; path?: string; reclassify?: boolean }) => {
      if (!opts.all && !opts.path && !opts.reclassify) {
        console.error('index: say what to do: --all, --path <file or folder inside the library>, or --reclassify');
        process.exitCode = 1;
        return;
      }
      process.exitCode = await withServices(async (services) => {
        const indexed = opts.all || opts.path ? await runIndex(services, opts) : 0;
        return opts.reclassify ? Math.max(indexed, await runReclassify(services)) : indexed;
      });
    });
}
