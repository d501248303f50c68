import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchResponse } from '../../shared/api-types.js';
import { postJson, startIndexedServer, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/**
 * Find Similar through the HTTP API on the real indexer and the embedded
 * store: a selection inside a long function finds the renamed copy of it in
 * another file, ahead of a table that only shares its names, and never the
 * selection's own lines.
 */
const EVENTS = ['start', 'suite', 'pass', 'fail', 'pending', 'retry', 'hook', 'slow', 'skip', 'delay', 'ready', 'idle', 'abort', 'end'];
const OBJECTS = ['timeline', 'cursor', 'buffer', 'ledger', 'panel'];
const METHODS = ['mark', 'advance', 'flush', 'record', 'render', 'reset', 'annotate'];
const FIELDS_READ = ['parent', 'state', 'timedOut', 'retries', 'body', 'ctx'];

/** The `fail` handler, which the other module copies. */
const FAIL_BODY = [
  '    stats.fail = (stats.fail || 0) + 1;',
  "    report.push({ event: 'fail', title: test.title, duration: test.duration, speed: test.speed });",
  "    if (options.reporterOption.verbose) console.log('fail', test.fullTitle(), test.duration);",
  "    sink.write(JSON.stringify({ fail: stats.fail, file: test.file }) + '\\n');",
];

/** A handler of its own for every other event, so only the `fail` one has a copy. */
function body(i: number): string[] {
  return [0, 1, 2, 3].map((k) => `    ${OBJECTS[(i * 3 + k) % OBJECTS.length]}.${METHODS[(i + k * 2) % METHODS.length]}(test.${FIELDS_READ[(i * 5 + k) % FIELDS_READ.length]}, ${i * 10 + k});`);
}

function handler(event: string, i: number): string[] {
  return [`  runner.on(EVENT_${event.toUpperCase()}, function (test) {`, ...(event === 'fail' ? FAIL_BODY : body(i)), '  });', ''];
}

/** A reporter far over max_tokens (512 tokens, ~2,000 characters): one function of fourteen callbacks. */
const REPORTER = [
  'function Reporter(runner, options) {',
  '  const stats = {};',
  '  const report = [];',
  '  const sink = options.sink;',
  '',
  ...EVENTS.flatMap(handler),
  '  return report;',
  '}',
  '',
  'module.exports = Reporter;',
  '',
].join('\n');
/** Line of `runner.on(EVENT_FAIL, …`: after 5 lines of preamble and three 7-line handlers. */
const FAIL_FIRST = 5 + 3 * 7 + 1;

/** The `fail` callback copied into another module with its locals renamed. */
const COPY = [
  'const { EVENT_FAIL } = require("./events");',
  '',
  'function countFailures(emitter, opts, counts, rows, out) {',
  '  emitter.on(EVENT_FAIL, function (t) {',
  '    counts.fail = (counts.fail || 0) + 1;',
  "    rows.push({ event: 'fail', title: t.title, duration: t.duration, speed: t.speed });",
  "    if (opts.reporterOption.verbose) console.log('fail', t.fullTitle(), t.duration);",
  "    out.write(JSON.stringify({ fail: counts.fail, file: t.file }) + '\\n');",
  '  });',
  '}',
  '',
  'module.exports = { countFailures };',
  '',
].join('\n');

/** Every name of the selection, in no order of it: what a bag of words cannot tell from the copy. */
const TABLE = [
  'const FIELDS = {',
  "  fail: 'fail', title: 'title', duration: 'duration', speed: 'speed', fullTitle: 'fullTitle', stats: 'stats',",
  "  file: 'file', write: 'write', push: 'push', verbose: 'verbose', reporterOption: 'reporterOption', sink: 'sink',",
  "  report: 'report', options: 'options', test: 'test', event: 'event', log: 'log', stringify: 'stringify',",
  '};',
  '',
  'module.exports = FIELDS;',
  '',
].join('\n');

describe('Find Similar on indexed code', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    ({ env, server } = await startIndexedServer({ 'src/reporter.js': REPORTER, 'lib/failures.js': COPY, 'lib/fields.js': TABLE }));
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  const lines = REPORTER.split('\n');
  const start = FAIL_FIRST + 1;
  const end = FAIL_FIRST + 4;
  const selection = lines.slice(start - 1, end).join('\n');

  async function similar(body: object): Promise<SearchResponse> {
    const { status, json } = await postJson(`${server.url}/api/query/similar`, { text: selection, n_results: 5, ...body });
    expect(status).toBe(200);
    return json as SearchResponse;
  }

  it('finds the renamed copy first, ahead of a table of the same names, and never the selection’s own lines', async () => {
    expect(lines[FAIL_FIRST - 1]).toContain('EVENT_FAIL');
    const res = await similar({ exclude_range: { file_path: 'src/reporter.js', start_line: start, end_line: end } });
    expect(res.results[0]).toMatchObject({ file_path: 'lib/failures.js', start_line: 3 });
    expect(res.results[0]?.section).toContain('function countFailures(emitter, opts, counts, rows, out)');
    expect(res.results.map((r) => r.file_path).indexOf('lib/fields.js')).toBeGreaterThan(0);
    for (const r of res.results) {
      if (r.file_path === 'src/reporter.js') expect(r.end_line < start || r.start_line > end, `${r.start_line}-${r.end_line}`).toBe(true);
    }
  });

  it('points at the piece of the long function that holds the selection, not a window of its neighbours', async () => {
    const res = await similar({});
    const own = res.results[0];
    expect(own).toMatchObject({ file_path: 'src/reporter.js', section: 'function Reporter(runner, options)' });
    expect(own?.start_line).toBeLessThanOrEqual(FAIL_FIRST);
    expect(own?.end_line).toBeGreaterThanOrEqual(FAIL_FIRST + 5);
    // Pieces of an oversized function run to half of max_tokens (512): a few 7-line handlers, not a 60-line window of the 105-line function.
    expect((own?.end_line ?? 0) - (own?.start_line ?? 0) + 1).toBeLessThanOrEqual(40);
  });
});
