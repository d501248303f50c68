import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of docs/architecture.md ("What may import what"), checked on
 * every import of every `server/**\/*.ts` file: a file imports its own layer or
 * a lower one, never a higher one, and reaches an adapter only from the
 * adapter's own directory (everyone else goes through the port and the factory).
 * Keep LAYERS and the doc's table the same.
 */

const ROOT = path.resolve(__dirname, '../..');
const SERVER = path.join(ROOT, 'server');

interface Layer {
  level: number;
  name: string;
  /** Paths relative to server/: `dir/` covers everything below it, `file.ts` one file. The longest match wins. */
  paths: string[];
  /** Adapters: importable only from files under the same top-level directory of server/. */
  private?: boolean;
}

const LAYERS: Layer[] = [
  {
    level: 1,
    name: 'foundation',
    // http/app-env.ts and indexing/library-paths.ts are leaves (they import only shared/) that many layers read.
    paths: ['config/', 'storage/', 'logger.ts', 'reliability/', 'text/', 'errors/', 'http/app-env.ts', 'indexing/library-paths.ts'],
  },
  {
    level: 2,
    name: 'ports',
    paths: ['embedders/embedder.ts', 'embedders/embedder-decorator.ts', 'stores/vector-store.ts', 'stores/filters.ts', 'stores/store-admin.ts', 'answers/chat-model.ts'],
  },
  // Fusion of ranked lists: the stores fuse their two sides, retrieval picks the weights, follow-ups merge two searches.
  { level: 2, name: 'fusion', paths: ['fusion/'] },
  { level: 3, name: 'adapters', paths: ['embedders/', 'stores/', 'answers/claude.ts'], private: true },
  { level: 3, name: 'factories', paths: ['embedders/create-embedder.ts', 'stores/create-store.ts'] },
  { level: 4, name: 'retrieval', paths: ['retrieval/'] },
  { level: 5, name: 'taxonomy', paths: ['taxonomy/'] },
  { level: 6, name: 'indexing', paths: ['indexing/'] },
  {
    level: 7,
    name: 'services',
    paths: ['answers/', 'usage/', 'auth/', 'jobs/', 'observability/', 'reliability/dependency-health.ts'],
  },
  { level: 8, name: 'composition', paths: ['services.ts'] },
  { level: 9, name: 'store operations', paths: ['snapshots.ts', 'migrate.ts', 'backup/'] },
  { level: 10, name: 'http edge', paths: ['http/'] },
  { level: 11, name: 'routes', paths: ['routes/', 'mcp/'] },
  { level: 12, name: 'app', paths: ['app.ts'] },
  { level: 13, name: 'entry points', paths: ['main.ts', 'cli.ts', 'cli/'] },
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative to server/, forward slashes. */
function rel(file: string): string {
  return path.relative(SERVER, file).split(path.sep).join('/');
}

function layerOf(file: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of LAYERS) {
    for (const p of layer.paths) {
      const matches = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (matches && (best === undefined || p.length > best.length)) best = { layer, length: p.length };
    }
  }
  return best?.layer;
}

function topDir(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '' : file.slice(0, slash);
}

// Static imports and re-exports start a line (a doc comment's lines start with `*`);
// their clause holds no quote or semicolon, so `[^'";]*` spans multi-line braces.
const STATIC_IMPORT = /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier of a file: imports, `import type`, re-exports and dynamic `import()`. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(STATIC_IMPORT)) found.push(m[1] ?? m[2] ?? '');
  for (const m of text.matchAll(DYNAMIC_IMPORT)) found.push(m[1] ?? '');
  return found.filter((s) => s !== '');
}

/** The imported `.ts` file (relative to the repo root) of a relative specifier; packages give undefined. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = path.resolve(path.dirname(from), specifier).replace(/\.js$/, '.ts');
  return path.relative(ROOT, target).split(path.sep).join('/');
}

interface Breach {
  pair: string;
  why: string;
}

function breaches(): { found: Breach[]; unassigned: string[]; checked: number } {
  const found: Breach[] = [];
  let checked = 0;
  const unassigned: string[] = [];
  for (const file of tsFiles(SERVER)) {
    const from = rel(file);
    const fromLayer = layerOf(from);
    if (fromLayer === undefined) {
      unassigned.push(from);
      continue;
    }
    for (const spec of specifiers(file)) {
      const target = resolve(file, spec);
      if (target === undefined) continue;
      if (!target.startsWith('server/')) {
        if (!target.startsWith('shared/')) found.push({ pair: `${from} -> ${target}`, why: 'server/ imports only shared/ outside itself' });
        continue;
      }
      const to = target.slice('server/'.length);
      const toLayer = layerOf(to);
      if (toLayer === undefined) continue; // reported once as unassigned when its own file is visited
      checked++;
      const pair = `${from} -> ${to}`;
      if (toLayer.level > fromLayer.level) {
        found.push({ pair, why: `${fromLayer.name} (${fromLayer.level}) imports up into ${toLayer.name} (${toLayer.level})` });
      } else if (toLayer.private === true && topDir(to) !== topDir(from)) {
        found.push({ pair, why: `reaches into an adapter from outside ${topDir(to)}/: use its port and factory` });
      }
    }
  }
  return { found, unassigned, checked };
}

describe('server layers (docs/architecture.md)', () => {
  const { found, unassigned, checked } = breaches();

  it('places every server file in a layer', () => {
    // A new directory or top-level file needs a row (or a path in a row) in LAYERS and in the doc's table.
    expect(unassigned).toEqual([]);
  });

  it('has no import that runs back up the layers (no exceptions)', () => {
    expect(found.map((b) => `${b.pair}: ${b.why}`)).toEqual([]);
  });

  it('is mirrored in docs/architecture.md (every layer path is named there)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const layerPaths = LAYERS.flatMap((l) => l.paths);
    expect(layerPaths.filter((p) => !doc.includes(`\`${p}\``))).toEqual([]);
  });

  it('checks real imports (the parser sees the files it should)', () => {
    // Guards against a broken resolver making every check pass vacuously.
    const indexer = specifiers(path.join(SERVER, 'indexing/indexer.ts'));
    expect(indexer).toContain('../stores/vector-store.js');
    expect(layerOf('stores/embedded/store.ts')?.private).toBe(true);
    expect(layerOf('stores/vector-store.ts')?.name).toBe('ports');
    // Hundreds of imports between server/ files today; a broken resolver would see none.
    expect(checked).toBeGreaterThan(200);
  });
});

/** The other side of the wire: what the extension, its webview and shared/ may import (docs/architecture.md). */
describe('extension and shared/ boundaries (docs/architecture.md)', () => {
  const repoRel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');
  const edges = (dir: string) =>
    tsFiles(path.join(ROOT, dir)).flatMap((file) => specifiers(file).map((spec) => ({ from: repoRel(file), spec, to: resolve(file, spec) })));

  it('shared/ imports only shared/ and packages, never vscode', () => {
    const bad = edges('shared').filter((e) => e.spec === 'vscode' || (e.to !== undefined && !e.to.startsWith('shared/')));
    expect(bad.map((e) => `${e.from} -> ${e.spec}`)).toEqual([]);
  });

  it('the extension imports server/ only as the route table type, erased from the bundle', () => {
    // `import type { AppType }` types the client (hono/client) and compiles to nothing; any value import would bundle server code.
    const toServer = edges('extension').filter((e) => e.to?.startsWith('server/') === true);
    expect(toServer.map((e) => `${e.from} -> ${e.to}`)).toEqual(['extension/api-client.ts -> server/app.ts']);
    const client = readFileSync(path.join(ROOT, 'extension/api-client.ts'), 'utf8');
    expect(client).toMatch(/^import type \{ AppType \} from '\.\.\/server\/app\.js';$/m);
  });

  it('the API client, the error wording and the webview run without vscode', () => {
    const vscodeFree = (from: string) => from === 'extension/api-client.ts' || from === 'extension/errors.ts' || from.startsWith('extension/webview/');
    const all = edges('extension');
    expect(all.some((e) => e.from === 'extension/extension.ts' && e.spec === 'vscode')).toBe(true);
    expect(all.filter((e) => vscodeFree(e.from) && e.spec === 'vscode').map((e) => e.from)).toEqual([]);
  });
});
