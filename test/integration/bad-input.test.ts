import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../shared/api-types.js';
import { postJson, readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/**
 * Every route gets garbage: malformed JSON, wrong types, huge and empty
 * strings, odd unicode, NUL bytes and path traversal in every path field
 * (including a symlink inside the library that leads out). Each answer must be
 * a 4xx with `{error: {code, message}}` (or, for input that is odd but valid,
 * a normal answer), the server must stay up, and the stored data must not move.
 */

const RUNS = 120;
const DOCS: Record<string, string> = {
  'guides/auth.md': '# Authentication\n\nSend the server token as a bearer token in the Authorization header.\n',
  'guides/backups.md': '# Backups\n\nDaily backups are kept for fourteen days.\n',
  'src/checksum.ts': 'export function computeChecksumMd5(data: string): string {\n  return data;\n}\n',
};

// ---- generators ------------------------------------------------------------

const ODD_UNICODE = ['\uD800', '\uDFFF', 'a\uDC00b', '\u202E', '\u200F', '\u2066', 'שלום', 'مرحبا', '🧨', '👩‍👩‍👧', 'e\u0301\u0302\u0303', 'Z\u0351\u036B\u0343\u036A', '\uFEFF', '\u2028', '\u0000', '\u0007', '\uFFFF', '\u{10FFFF}'];
const oddText = fc
  .array(fc.oneof(fc.constantFrom(...ODD_UNICODE), fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join(''));

const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);

/** Paths that escape by their text alone: refused in every path field, stored filters included. */
const textualEscape = fc.oneof(
  // More "../" than folders before them: always climbs out.
  fc.tuple(fc.array(segment, { maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom('../', '..\\'), fc.array(segment, { maxLength: 2 })).map(
    ([before, extra, up, after]) => [...before.map((s) => `${s}/`), up.repeat(before.length + extra), after.join('/')].join(''),
  ),
  fc.tuple(fc.constantFrom('/', '/etc/', 'C:\\', 'c:/', '\\\\server\\share\\', '/tmp/../'), fc.array(segment, { minLength: 1, maxLength: 3 })).map(([root, rest]) => root + rest.join('/')),
  fc.tuple(fc.array(segment, { maxLength: 2 }), fc.constantFrom('%2e%2e/', '%2E%2E%2F', '..%2f', '%2e%2e%5c', 'a%00b', '%2f'), fc.array(segment, { maxLength: 2 })).map(
    ([a, enc, b]) => [...a, enc + b.join('/')].join('/'),
  ),
  // NUL, lone surrogates, control and bidi-override characters anywhere in the path.
  fc.tuple(segment, fc.constantFrom('\0', '\uD800', '\uDC00', '\u202E', '\u0007', '\n', '\u2066'), segment).map(([a, bad, b]) => `${a}${bad}${b}.md`),
);

/** Library paths that look harmless but lead out through the symlinks planted in the library. */
const symlinkEscape = fc.constantFrom('escape/secret.md', 'escape', 'escape.md', 'escape/../escape/secret.md');

/** Paths resolved on disk inside the library (index path, documents): textual escapes and symlinks out. */
const escapingPath = fc.oneof(textualEscape, symlinkEscape);

/** Upload paths are relative to contributed/<workspace>/, where the planted link is "out". */
const escapingUpload = fc.oneof(textualEscape, fc.constantFrom('out/planted.md', 'out/deeper/planted.md', 'out'));

const wrongType = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(segment, fc.jsonValue(), { maxKeys: 3 }));
const hugeString = fc.integer({ min: 5_000, max: 40_000 }).map((n) => 'x'.repeat(n));
const blank = fc.constantFrom('', ' ', '\t\n', '   ');

/** A body that is not valid JSON at all. */
const malformedJson = fc.oneof(
  fc.constantFrom('{', '{"query":', '{"query": "x",}', "{'query': 'x'}", 'undefined', 'NaN', '{"a":1}{"b":2}', '\u0000', '[' .repeat(5000), '{"query": "\\x41"}', '\uFEFF'),
  fc.string({ maxLength: 40 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

/** Valid JSON whose shape is wrong for every route (not an object, or an object with the wrong fields). */
const wrongShape = fc.oneof(
  wrongType.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  fc.dictionary(fc.constantFrom('limit', 'q', 'top_k', 'files', '__proto__x'), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }),
);

const searchBad = fc.oneof(
  fc.record({ query: fc.oneof(wrongType, blank, hugeString) }),
  fc.record({ query: fc.constant('token'), n_results: fc.oneof(fc.constantFrom(0, 51, -1, 1.5, 1e9, '10'), wrongType.filter((v) => typeof v !== 'number')) }),
  fc.record({ query: fc.constant('token'), mode: fc.oneof(fc.constantFrom('fuzzy', 'HYBRID', ''), wrongType) }),
  fc.record({ query: fc.constant('token'), filters: fc.oneof(wrongType.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), fc.record({ file_path: textualEscape }), fc.record({ content_type: fc.constantFrom('pdf', '', 'MARKDOWN') }), fc.record({ unknown: fc.jsonValue() })) }),
  fc.record({ query: fc.constant('token'), extra: fc.jsonValue() }),
);

const similarBad = fc.oneof(
  fc.record({ text: fc.oneof(wrongType, blank, fc.constant('y'.repeat(20_001))) }),
  fc.record({ id: fc.oneof(wrongType, oddText, fc.constant('not-a-uuid')) }),
  fc.record({ text: fc.constant('a'), id: fc.constant('00000000-0000-4000-8000-000000000000') }),
  fc.record({ text: fc.constant('token'), exclude_file_path: textualEscape }),
  fc.record({ text: fc.constant('token'), n_results: fc.constantFrom(0, 51, 'x', null) }),
  fc.constant({}),
);

const askBad = fc.oneof(
  fc.record({ question: fc.oneof(wrongType, blank, hugeString) }),
  fc.record({ question: fc.constant('How do backups work?'), conversation_id: fc.oneof(wrongType, escapingPath, oddText.filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s)), fc.constant('x'.repeat(65))) }),
  fc.record({ question: fc.constant('How do backups work?'), filters: fc.record({ file_path: textualEscape }) }),
  fc.record({ question: fc.constant('How do backups work?'), n_results: fc.constantFrom(0, 51, '3') }),
  fc.constant({ question: 'x', extra: true }),
);

const indexBad = fc.oneof(
  fc.record({ path: escapingPath }),
  fc.record({ path: fc.oneof(wrongType, fc.constant('')) }),
  fc.record({ file_path: escapingUpload, content: fc.oneof(fc.string({ maxLength: 200 }), fc.constant('# planted\n\nmust never be written outside the library\n')) }),
  fc.record({ file_path: fc.oneof(wrongType, fc.constant('')), content: fc.string({ maxLength: 50 }) }),
  fc.record({ file_path: fc.constant('notes/ok.md'), content: wrongType.filter((v) => typeof v !== 'string') }),
  fc.record({ file_path: fc.constant('notes/ok.md'), content: fc.constant('x'), workspace: fc.oneof(textualEscape, fc.constantFrom('', 'a/b', '..', '.', 'x'.repeat(65), 'ws\u202E'), wrongType) }),
  fc.record({ all: fc.oneof(fc.constant(false), fc.constant('true'), fc.constant(1), fc.constant(null)) }),
  fc.record({ all: fc.constant(true), path: fc.constant('guides') }),
);

// ---- helpers ----------------------------------------------------------------

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const { status, json, text } = await readReply(res);
  return { status, body: json, text };
}

function postRaw(url: string, body: string, contentType = 'application/json'): Promise<Reply> {
  return send(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

/** JSON.stringify keeps lone surrogates as \\u escapes, so the server really receives them. */
function postValue(url: string, value: unknown): Promise<Reply> {
  return postRaw(url, JSON.stringify(value));
}

function isErrorBody(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e: unknown = v.error;
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e && typeof e.code === 'string' && typeof e.message === 'string' && e.message.length > 0;
}

/** A refusal: 4xx, the API's error shape, and no stack trace or internals. */
function expectRefusal(r: Reply, context: unknown): void {
  const where = `${JSON.stringify(context)?.slice(0, 300)} → ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, where).toBeGreaterThanOrEqual(400);
  expect(r.status, where).toBeLessThan(500);
  expect(isErrorBody(r.body), where).toBe(true);
  expect(r.text, where).not.toMatch(/at .*\.(ts|js):\d+|node:internal/);
}

/** Odd but possibly valid input: anything but a 5xx, and a well-formed answer either way. */
function expectHandled(r: Reply, context: unknown): void {
  const where = `${JSON.stringify(context)?.slice(0, 300)} → ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, where).toBeLessThan(500);
  if (r.status >= 400) expect(isErrorBody(r.body), where).toBe(true);
  else expect(r.body, where).not.toBeNull();
}

/** Percent-encodes anything, lone surrogates included (as the raw bytes a hostile client would send). */
function encodeLoosely(s: string): string {
  let out = '';
  for (const ch of s) {
    try {
      out += encodeURIComponent(ch);
    } catch {
      const unit = ch.charCodeAt(0);
      out += `%${(0xe0 | (unit >> 12)).toString(16)}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16)}%${(0x80 | (unit & 0x3f)).toString(16)}`;
    }
  }
  return out;
}

/** Files under `dir` (symlinks listed, never followed) with a hash of their bytes. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = path.join(d, name);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.push(`${abs} -> link`);
      else if (st.isDirectory()) walk(abs);
      else out.push(`${abs} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    }
  };
  walk(dir);
  return out;
}

describe('bad input on every route', () => {
  let env: TempEnv;
  let outside: string;
  let server: RunningServer;
  let conversationId = '';

  /** Point count, a hash of every payload and vector, the files table, the library and the outside folder. */
  async function fingerprint(): Promise<string> {
    const { store } = server.services;
    const h = createHash('sha256');
    h.update(`count:${await store.count()}\n`);
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const page: Awaited<ReturnType<typeof store.scroll>> = await store.scroll(cursor, 500);
      for (const p of page.points) h.update(`${p.id}\n${JSON.stringify(p.payload)}\n`).update(Buffer.from(p.vector.buffer, p.vector.byteOffset, p.vector.byteLength));
      cursor = page.next;
    }
    h.update(JSON.stringify(await store.listFiles()));
    h.update(tree(env.library).join('\n'));
    h.update(tree(outside).join('\n'));
    return h.digest('hex');
  }

  async function conversations(): Promise<string> {
    const res = await send(`${server.url}/api/conversations`, {});
    const list = (res.body as { conversations: ConversationSummary[] }).conversations;
    return JSON.stringify(list.map((c) => [c.id, c.turns]));
  }

  /** Runs one route's batch: the server must still be healthy and the data untouched afterwards. */
  async function batch(run: () => Promise<void>): Promise<void> {
    const before = await fingerprint();
    const convBefore = await conversations();
    await run();
    const health = await send(`${server.url}/health`, {});
    expect(health.status).toBe(200);
    expect(await fingerprint()).toBe(before);
    expect(await conversations()).toBe(convBefore);
  }

  beforeAll(async () => {
    env = tempEnv(DOCS);
    outside = mkdtempSync(path.join(os.tmpdir(), 'ailib-outside-'));
    writeFileSync(path.join(outside, 'secret.md'), '# Secret\n\nThis lives outside the library and must never be read or written.\n');
    symlinkSync(outside, path.join(env.library, 'escape'));
    symlinkSync(path.join(outside, 'secret.md'), path.join(env.library, 'escape.md'));
    // A linked folder where uploads land: writes through it would escape.
    mkdirSync(path.join(env.library, 'contributed', 'default'), { recursive: true });
    symlinkSync(outside, path.join(env.library, 'contributed', 'default', 'out'));
    // Property runs send many requests as one developer: raise the budgets (not disable them).
    Object.assign(env.env, { LIMIT_REQUESTS_PER_MINUTE: '1000000', LIMIT_ASKS_PER_MINUTE: '1000000', LIMIT_INDEX_PER_MINUTE: '1000000' });
    server = await startServer(env.env, env.root);
    const indexed = await server.services.indexer.indexAll();
    expect(indexed.summary.indexed).toBe(3);
    // The symlinked file is not followed out of the library by a full index either.
    expect(indexed.files.map((f) => f.file_path)).not.toContain('escape.md');
    const asked = await postJson(`${server.url}/api/query/ask`, { question: 'How long are daily backups kept?' });
    expect(asked.status).toBe(200);
    conversationId = String(asked.json.conversation_id);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  const JSON_ROUTES = ['/api/query/search', '/api/query/similar', '/api/query/ask', '/api/library/index'] as const;

  it('malformed JSON, wrong shapes and wrong media types → 4xx on every JSON route', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...JSON_ROUTES), malformedJson, async (route, body) => {
          expectRefusal(await postRaw(`${server.url}${route}`, body), { route, body });
        }),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...JSON_ROUTES), wrongShape, async (route, value) => {
          expectRefusal(await postValue(`${server.url}${route}`, value), { route, value });
        }),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...JSON_ROUTES), fc.constantFrom('text/plain', '', 'application/x-www-form-urlencoded', 'multipart/form-data'), async (route, type) => {
          expectRefusal(await postRaw(`${server.url}${route}`, '{"query":"x"}', type), { route, type });
        }),
        { numRuns: 20 },
      );
      const huge = await postRaw(`${server.url}/api/library/index`, JSON.stringify({ file_path: 'big.md', content: 'x'.repeat(13 * 1024 * 1024) }));
      expect(huge.status).toBe(413);
      expect(isErrorBody(huge.body)).toBe(true);
    });
  });

  it('POST /api/query/search: bad fields are refused; odd unicode queries are answered', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(searchBad, async (body) => expectRefusal(await postValue(`${server.url}/api/query/search`, body), body)),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(oddText, fc.constantFrom('hybrid', 'dense', 'keyword'), async (query, mode) => {
          expectHandled(await postValue(`${server.url}/api/query/search`, { query, mode }), { query, mode });
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('POST /api/query/similar: bad fields are refused; odd unicode text is answered', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(similarBad, async (body) => expectRefusal(await postValue(`${server.url}/api/query/similar`, body), body)),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(oddText, async (text) => expectHandled(await postValue(`${server.url}/api/query/similar`, { text }), { text })),
        { numRuns: RUNS / 2 },
      );
    });
  });

  it('POST /api/query/ask: bad fields are refused and nothing is saved', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(askBad, async (body) => expectRefusal(await postValue(`${server.url}/api/query/ask`, body), body)),
        { numRuns: RUNS },
      );
    });
  });

  it('POST /api/query/ask: odd unicode questions are answered (extractively), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(oddText, async (question) => expectHandled(await postValue(`${server.url}/api/query/ask`, { question }), { question })),
      { numRuns: 40 },
    );
    expect((await send(`${server.url}/health`, {})).status).toBe(200);
  });

  it('POST /api/library/index: traversal, symlinks out, wrong types and bad workspaces are refused; nothing is written', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(indexBad, async (body) => expectRefusal(await postValue(`${server.url}/api/library/index`, body), body)),
        { numRuns: RUNS * 2 },
      );
    });
    expect(readdirSync(outside)).toEqual(['secret.md']);
  });

  it('GET and DELETE /api/library/documents: traversal, encoded dots, symlinks and odd unicode → 4xx', async () => {
    const pathParam = fc.oneof(
      escapingPath.map((p) => encodeLoosely(p)),
      oddText.map((p) => encodeLoosely(p)),
      fc.constantFrom('%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252f..%252fetc', '%ED%A0%80', '%FF%FE', '%00', '', '%20', 'guides%2F..%2F..%2Fx', 'escape%2Fsecret.md'),
    );
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(pathParam, fc.constantFrom('GET', 'DELETE'), async (param, method) => {
          expectRefusal(await send(`${server.url}/api/library/documents?path=${param}`, { method }), { param, method });
        }),
        { numRuns: RUNS },
      );
      expectRefusal(await send(`${server.url}/api/library/documents`, {}), 'no path');
    });
  });

  it('GET /api/library/taxonomy: stray parameters and methods never break it', async () => {
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(oddText, oddText), { maxLength: 4 }), async (pairs) => {
          const qs = pairs.map(([k, v]) => `${encodeLoosely(k)}=${encodeLoosely(v)}`).join('&');
          const r = await send(`${server.url}/api/library/taxonomy?${qs}`, {});
          expect(r.status, qs).toBe(200);
          expect(r.body).toMatchObject({ total_documents: 3 });
        }),
        { numRuns: RUNS / 2 },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH'), malformedJson, async (method, body) => {
          expectRefusal(await send(`${server.url}/api/library/taxonomy`, { method, headers: { 'content-type': 'application/json' }, body }), { method, body });
        }),
        { numRuns: RUNS / 2 },
      );
    });
  });

  it('GET and DELETE /api/conversations/:id: foreign, traversal and odd ids → 4xx; the real conversation survives', async () => {
    const idParam = fc.oneof(
      escapingPath.map((p) => encodeLoosely(p)),
      oddText.map((p) => encodeLoosely(p)),
      fc.constantFrom('..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..', '.', `${'a'.repeat(65)}`, '%00', '%ED%A0%80', 'CON', 'nul', `${conversationId}%00`, `${conversationId}.json`, `..%2F${conversationId}`),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter((id) => id !== conversationId),
    );
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(idParam, fc.constantFrom('GET', 'DELETE'), async (id, method) => {
          const r = await send(`${server.url}/api/conversations/${id}`, { method });
          expectRefusal(r, { id, method });
        }),
        { numRuns: RUNS },
      );
    });
    expect((await send(`${server.url}/api/conversations/${conversationId}`, {})).status).toBe(200);
  });

  it('GET /api/admin/snapshots/:name: traversal and odd names → 4xx, never a file outside the snapshot folder', async () => {
    const nameParam = fc.oneof(
      escapingPath.map((p) => encodeLoosely(p)),
      oddText.map((p) => encodeLoosely(p)),
      fc.constantFrom('..%2F..%2Flibrary.sqlite', '..%2Flibrary.sqlite', '%2e%2e%2ftokens.sqlite', 'library.sqlite', '..', '.sqlite', '%00.sqlite', 'a'.repeat(300)),
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/),
    );
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(nameParam, async (name) => {
          const r = await send(`${server.url}/api/admin/snapshots/${name}`, {});
          expectRefusal(r, name);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
