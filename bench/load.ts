/**
 * Simulated developers hitting one server at once: searches, "find similar",
 * questions and file uploads, each developer waiting for its own answer before
 * the next request (like a person, or an editor extension, would).
 *
 * `runLoad` drives any server URL and records every request; the load test
 * asserts on the records (no 5xx, no lost writes), `benchLoad` prints
 * throughput and p50/p95 per route. Nothing here asserts timing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config/settings.js';
import { createLogger } from '../server/logger.js';
import { createServices } from '../server/services.js';
import { mulberry32 } from './random.js';
import { percentile } from './stats.js';

export const LOAD_ROUTES = ['search', 'similar', 'ask', 'upload'] as const;
export type LoadRoute = (typeof LOAD_ROUTES)[number];

export interface LoadOptions {
  /** Base URL of a running server, e.g. http://127.0.0.1:8000. */
  url: string;
  developers: number;
  seconds: number;
  /** A cap per developer, so a run stays bounded even on a very fast machine. */
  maxOpsPerDeveloper?: number;
  /** Extra headers per developer, e.g. an Anthropic key so that developer's questions go to Claude. */
  headersFor?: (developer: number) => Record<string, string>;
  /** Share of each route in the mix; the rest of 1 goes to search. */
  mix?: Partial<Record<Exclude<LoadRoute, 'search'>, number>>;
  seed?: number;
}

export interface LoadRecord {
  developer: number;
  route: LoadRoute;
  status: number;
  ms: number;
  /** The first bytes of a failed answer, to say what went wrong. */
  error?: string;
  /** The answer's mode, for questions. */
  mode?: string;
}

export interface UploadRecord {
  developer: number;
  /** As stored: contributed/<workspace>/<file>. */
  filePath: string;
  content: string;
  /** The server acknowledged the write (200, status "indexed" or "unchanged"). */
  acknowledged: boolean;
}

export interface LoadResult {
  records: LoadRecord[];
  /** In the order each developer sent them; a later acknowledged upload of a path replaces an earlier one. */
  uploads: UploadRecord[];
  seconds: number;
}

export interface RouteSummary {
  route: LoadRoute;
  count: number;
  perSecond: number;
  p50: number;
  p95: number;
  non2xx: number;
}

const QUERIES = [
  'how do I rotate server tokens',
  'daily backups retention',
  'restore from a snapshot',
  'docker compose deployment',
  'circuit breaker open',
  'computeChecksumMd5',
  'rate limit retry after',
  'hybrid search reciprocal rank fusion',
  'where are conversations stored',
  'index a folder',
];
const WORDS = ['token', 'backup', 'snapshot', 'deploy', 'qdrant', 'embedding', 'retry', 'breaker', 'health', 'index', 'search', 'library', 'runbook', 'restart'];


function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

/** Runs `developers` concurrent loops until `seconds` pass or each reaches its cap. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, developers, seconds } = options;
  const cap = options.maxOpsPerDeveloper ?? Number.POSITIVE_INFINITY;
  const mix = { similar: 0.1, ask: 0.2, upload: 0.15, ...options.mix };
  const records: LoadRecord[] = [];
  const uploads: UploadRecord[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;

  const developer = async (d: number) => {
    const rand = mulberry32((options.seed ?? 1) * 1000 + d);
    const headers = options.headersFor?.(d) ?? {};
    const pick = (items: readonly string[]): string => items[Math.floor(rand() * items.length)] ?? '';
    for (let n = 0; n < cap && performance.now() < deadline; n++) {
      const r = rand();
      const route: LoadRoute = r < mix.ask ? 'ask' : r < mix.ask + mix.upload ? 'upload' : r < mix.ask + mix.upload + mix.similar ? 'similar' : 'search';
      const t = performance.now();
      let res: { status: number; json: unknown; text: string };
      let upload: UploadRecord | null = null;
      if (route === 'search') {
        res = await post(`${url}/api/query/search`, { query: pick(QUERIES), n_results: 10 }, headers);
      } else if (route === 'similar') {
        res = await post(`${url}/api/query/similar`, { text: `${pick(QUERIES)} ${pick(WORDS)}`, n_results: 5 }, headers);
      } else if (route === 'ask') {
        res = await post(`${url}/api/query/ask`, { question: `${pick(QUERIES)}?` }, headers);
      } else {
        // Five files per developer, rewritten now and then: overwrites must not lose the latest.
        const file = `notes/note-${n % 5}.md`;
        const words = Array.from({ length: 40 }, () => pick(WORDS)).join(' ');
        const content = `# Note ${d}-${n}\n\nDeveloper ${d} wrote revision ${n} about ${pick(WORDS)}.\n\n## Details\n\n${words}.\n`;
        res = await post(`${url}/api/library/index`, { file_path: file, content, workspace: `dev${d}` }, headers);
        const first = isRecord(res.json) && Array.isArray(res.json.files) ? res.json.files[0] : undefined;
        const status = isRecord(first) ? first.status : undefined;
        const filePath = isRecord(first) && typeof first.file_path === 'string' ? first.file_path : `contributed/dev${d}/${file}`;
        upload = { developer: d, filePath, content, acknowledged: res.status === 200 && (status === 'indexed' || status === 'unchanged') };
      }
      const record: LoadRecord = { developer: d, route, status: res.status, ms: performance.now() - t };
      if (res.status >= 300) record.error = res.text.slice(0, 300);
      if (route === 'ask' && isRecord(res.json) && typeof res.json.mode === 'string') record.mode = res.json.mode;
      records.push(record);
      if (upload) uploads.push(upload);
    }
  };

  await Promise.all(Array.from({ length: developers }, (_, d) => developer(d)));
  return { records, uploads, seconds: (performance.now() - started) / 1000 };
}

export function summarizeLoad(result: LoadResult): RouteSummary[] {
  return LOAD_ROUTES.map((route) => {
    const rs = result.records.filter((r) => r.route === route);
    const times = rs.map((r) => r.ms);
    return {
      route,
      count: rs.length,
      perSecond: rs.length / result.seconds,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      non2xx: rs.filter((r) => r.status < 200 || r.status >= 300).length,
    };
  });
}

/**
 * The bench's `load` section: a fresh server on loopback (embedded store,
 * local embedder, extractive answers) with a generated library, 20 developers
 * for BENCH_LOAD_SECONDS (default 60). Rate limits are raised for the run, not
 * turned off: the point is the server's own capacity.
 */
export async function benchLoad(seconds = Number(process.env.BENCH_LOAD_SECONDS ?? 60), developers = 20): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-bench-load-'));
  const library = path.join(root, 'library');
  const rand = mulberry32(7);
  for (let i = 0; i < 300; i++) {
    const dir = path.join(library, `area${i % 10}`);
    mkdirSync(dir, { recursive: true });
    const body = Array.from({ length: 4 }, (_, s) => `## Part ${s}\n\n${Array.from({ length: 60 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')}.`).join('\n\n');
    writeFileSync(path.join(dir, `doc${i}.md`), `# ${QUERIES[i % QUERIES.length]}\n\n${body}\n`);
  }
  const unlimited = String(1_000_000_000);
  const config = loadConfig(
    {
      CONFIG_DIR: path.join(process.cwd(), 'configs'),
      LIBRARY_PATH: library,
      DATA_DIR: path.join(root, 'data'),
      SESSIONS_PATH: path.join(root, 'sessions'),
      LIMIT_REQUESTS_PER_MINUTE: unlimited,
      LIMIT_ASKS_PER_MINUTE: unlimited,
      LIMIT_INDEX_PER_MINUTE: unlimited,
    },
    root,
  );
  const services = await createServices(config);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: createApp(services, createLogger('silent')).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  try {
    await services.indexer.indexAll();
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('bench load: the server has no TCP address; it did not start listening');
    const result = await runLoad({ url: `http://127.0.0.1:${address.port}`, developers, seconds });
    const total = result.records.length;
    console.log(`\nload: ${developers} developers for ${result.seconds.toFixed(1)} s over loopback, ${total} requests = ${(total / result.seconds).toFixed(0)} req/s`);
    for (const s of summarizeLoad(result)) {
      console.log(
        `  ${s.route.padEnd(8)} ${String(s.count).padStart(6)} requests ${s.perSecond.toFixed(1).padStart(7)}/s  p50 ${s.p50.toFixed(1).padStart(7)} ms  p95 ${s.p95.toFixed(1).padStart(7)} ms  non-2xx ${s.non2xx}`,
      );
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await services.close();
    rmSync(root, { recursive: true, force: true });
  }
}
