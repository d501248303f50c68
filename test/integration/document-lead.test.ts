import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { EmbeddedStore } from '../../server/stores/embedded.js';
import { CONTRACT_EMBEDDER, fileOf, pointsOf, taxonomy, type DocSpec } from '../contract/vector-store.contract.js';

// Each chunk's keyword row carries its document's lead (server/stores/document-lead.ts).
const dirs: string[] = [];
const stores: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dbFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-lead-'));
  dirs.push(dir);
  return path.join(dir, 'library.sqlite');
}

async function open(file = dbFile()): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(file);
  stores.push(store);
  await store.init(CONTRACT_EMBEDDER);
  return store;
}

function doc(p: string, type: 'markdown' | 'code', contents: string[]): DocSpec {
  return { path: p, type, taxonomy: taxonomy('engineering', null), chunks: contents.map((content, i) => ({ section: `S${i}`, content })), indexedAt: '2026-12-01T00:00:00.000Z' };
}

const PAGE = doc('man/p1.md', 'markdown', [
  'Show commit logs. Lists commits reachable from the given ones, newest first.',
  'OPTIONS: --follow continues listing the history of a file beyond renames.',
]);
const CODE = doc('src/h1.ts', 'code', [
  "import { history } from './history';\n// Show commit logs for the CLI.",
  'export function follow(path: string) {\n  return renames(path);\n}',
]);
const OTHER = doc('misc/notes.md', 'markdown', ['Coffee and lunch breaks.', 'Parking spaces are assigned monthly.']);

async function keyword(store: EmbeddedStore, query: string): Promise<string[]> {
  return (await store.search({ mode: 'keyword', text: query, limit: 5 })).map((p) => `${p.payload.file_path}#${p.payload.chunk_index}`);
}

describe('document lead in every chunk of a prose document', () => {
  it('lets a query naming the document find its later chunks, after the opening, without touching the payload', async () => {
    const store = await open();
    for (const d of [PAGE, OTHER]) await store.replaceFile(fileOf(d), pointsOf(d));
    expect(await keyword(store, 'commit logs')).toEqual(['man/p1.md#0', 'man/p1.md#1']);
    const [options] = await store.search({ mode: 'keyword', text: 'follow renames', limit: 1 });
    expect(options?.payload.content).toBe(PAGE.chunks[1]!.content);
  });

  it('leaves code alone: a file opens with imports, not with what its functions do', async () => {
    const store = await open();
    for (const d of [CODE, OTHER]) await store.replaceFile(fileOf(d), pointsOf(d));
    expect(await keyword(store, 'commit logs')).toEqual(['src/h1.ts#0']);
  });

  it('reads the lead back when a batch holds only later chunks (migration pages)', async () => {
    const store = await open();
    const points = pointsOf(PAGE);
    await store.upsertPoints([points[0]!], [fileOf(PAGE)]);
    await store.upsertPoints([points[1]!], [fileOf(PAGE)]);
    expect(await keyword(store, 'commit logs')).toEqual(['man/p1.md#0', 'man/p1.md#1']);
  });

  it('gives the chunks of a store written before leads their lead when it opens', async () => {
    const file = dbFile();
    const first = await open(file);
    for (const d of [PAGE, OTHER]) await first.replaceFile(fileOf(d), pointsOf(d));
    await first.close();
    // What a store written before document leads looks like: no lead in idents, none recorded in meta.
    const db = openDatabase(file);
    db.exec("UPDATE chunks SET idents = ''; DELETE FROM meta WHERE key = 'document_lead'");
    db.close();
    const reopened = await open(file);
    expect(await keyword(reopened, 'commit logs')).toEqual(['man/p1.md#0', 'man/p1.md#1']);
  });
});
