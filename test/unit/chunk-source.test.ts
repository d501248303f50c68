import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Chunk, ChunkingOptions } from '../../server/indexing/chunk.js';
import { chunkSource } from '../../server/indexing/chunk-source.js';
import { estimateTokens } from '../../server/text/token-estimate.js';

const OPTS: ChunkingOptions = { min_tokens: 20, max_tokens: 200, overlap_tokens: 20 };
/** One chunk per declaration: nothing merged, nothing split. */
const WHOLE: ChunkingOptions = { min_tokens: 1, max_tokens: 1000, overlap_tokens: 0 };

/** Source chunks are whole original lines: content equals the lines it claims. */
function expectExactLines(text: string, chunks: readonly Chunk[]): void {
  const lines = text.split(/\r?\n/);
  for (const c of chunks) {
    expect(c.content.trim()).not.toBe('');
    expect(lines.slice(c.start_line - 1, c.end_line).join('\n')).toBe(c.content);
  }
}

function expectWithinMax(chunks: readonly Chunk[], opts: ChunkingOptions): void {
  for (const c of chunks) expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
}

const sections = (chunks: readonly Chunk[]): string[] => chunks.map((c) => c.section);
/** "start-end section" per chunk: the line ranges and names a test pins. */
const outline = (chunks: readonly Chunk[]): string[] => chunks.map((c) => `${c.start_line}-${c.end_line} ${c.section}`);
const chunkOf = (chunks: readonly Chunk[], section: string): Chunk | undefined => chunks.find((c) => c.section === section);

const TS = `import { z } from 'zod';
import type { Store } from './store.js';

const DEFAULT_LIMIT = 10;

/**
 * Creates the store the server uses, picked by settings.
 * Falls back to the embedded store when Qdrant is not configured.
 */
export function createStore(settings: Settings): Store {
  if (settings.vector.url) return new QdrantStore(settings.vector.url);
  return new EmbeddedStore(settings.data.dir);
}

export interface SearchOptions {
  limit: number;
  mode: 'dense' | 'keyword' | 'hybrid';
}

export type Scored = { id: string; score: number };

export enum Mode {
  Dense = 'dense',
  Keyword = 'keyword',
}

export const rank = (hits: Scored[]): Scored[] => [...hits].sort((a, b) => b.score - a.score);

@injectable()
export class EmbeddedStore implements Store {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly dir: string) {}

  /** Dense search over every stored vector. */
  async search(query: Float32Array, options: SearchOptions): Promise<Scored[]> {
    const hits: Scored[] = [];
    for (const [id, row] of this.rows) hits.push({ id, score: cosine(query, row.vector) });
    return rank(hits).slice(0, options.limit ?? DEFAULT_LIMIT);
  }

  get size(): number {
    return this.rows.size;
  }
}
`;

describe('chunkSource: TypeScript', () => {
  it('chunks at top-level declarations, named with their signatures, on their exact lines', async () => {
    const chunks = await chunkSource(TS, 'typescript', WHOLE);
    expect(outline(chunks)).toEqual([
      '1-2 (module header)',
      '4-4 const DEFAULT_LIMIT',
      '6-13 function createStore(settings: Settings)',
      '15-18 interface SearchOptions',
      '20-20 type Scored',
      '22-25 enum Mode',
      '27-27 function rank(hits: Scored[])',
      '29-45 class EmbeddedStore',
    ]);
    expect(chunks[0]?.content).toBe("import { z } from 'zod';\nimport type { Store } from './store.js';");
    expectExactLines(TS, chunks);
  });

  it('attaches doc comments and decorators to the declaration below them', async () => {
    const chunks = await chunkSource(TS, 'typescript', WHOLE);
    expect(chunkOf(chunks, 'function createStore(settings: Settings)')?.content.startsWith('/**\n * Creates the store')).toBe(true);
    expect(chunkOf(chunks, 'class EmbeddedStore')?.content.startsWith('@injectable()\nexport class EmbeddedStore')).toBe(true);
  });

  it('merges tiny consecutive declarations, listing at most three names', async () => {
    const chunks = await chunkSource(TS, 'typescript', { min_tokens: 60, max_tokens: 400, overlap_tokens: 0 });
    expect(sections(chunks)).toContain('interface SearchOptions, type Scored, enum Mode, …');
    const merged = chunks.find((c) => c.section.startsWith('interface SearchOptions'));
    expect(merged?.content).toContain('export const rank');
    expectExactLines(TS, chunks);
  });

  it('splits a class over max_tokens at its members, each with its container and signature', async () => {
    const opts = { min_tokens: 5, max_tokens: 80, overlap_tokens: 0 };
    const chunks = await chunkSource(TS, 'typescript', opts);
    expect(outline(chunks).filter((s) => s.includes('class EmbeddedStore'))).toEqual([
      '29-31 class EmbeddedStore',
      '33-33 class EmbeddedStore > constructor(private readonly dir: string)',
      '35-40 class EmbeddedStore > search(query: Float32Array, options: SearchOptions)',
      '42-44 class EmbeddedStore > get size()',
    ]);
    const search = chunkOf(chunks, 'class EmbeddedStore > search(query: Float32Array, options: SearchOptions)');
    expect(search?.content.startsWith('  /** Dense search over every stored vector. */\n  async search(')).toBe(true);
    expectWithinMax(chunks, opts);
    expectExactLines(TS, chunks);
  });

  it('cuts an oversized function at its statements into pieces of at least half max_tokens that keep its section', async () => {
    const body = Array.from({ length: 80 }, (_, i) => `  total += await store.count({ shard: ${i} });`).join('\n');
    const text = `export async function countAll(store: Store): Promise<number> {\n  let total = 0;\n${body}\n  return total;\n}\n`;
    const opts = { min_tokens: 10, max_tokens: 120, overlap_tokens: 25 };
    const chunks = await chunkSource(text, 'typescript', opts);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.section === 'function countAll(store: Store)')).toBe(true);
    // Whole statements, one after another: no piece starts mid-statement or repeats the last one's lines.
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]?.start_line).toBe((chunks[i - 1]?.end_line ?? 0) + 1);
    for (const c of chunks.slice(0, -1)) expect(estimateTokens(c.content)).toBeGreaterThanOrEqual(opts.max_tokens / 2);
    expect(chunks[0]?.start_line).toBe(1);
    expect(chunks.at(-1)?.content.endsWith('  return total;\n}')).toBe(true);
    expect(chunks.at(-1)?.end_line).toBe(84);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });

  it('keeps each callback of an oversized function in one piece, with the comment above it', async () => {
    const handler = (event: string) => [
      `  // Counts ${event} events.`,
      `  runner.on('${event}', function (test) {`,
      `    stats.${event} = (stats.${event} || 0) + 1;`,
      `    report.push({ event: '${event}', title: test.title, duration: test.duration });`,
      `    if (options.verbose) console.log('${event}', test.fullTitle());`,
      '  });',
    ];
    const events = ['start', 'suite', 'pass', 'fail', 'pending', 'end', 'retry', 'hook'];
    const lines = ['function Reporter(runner, options) {', '  const stats = {};', '  const report = [];', ...events.flatMap(handler), '  return report;', '}'];
    const text = `${lines.join('\n')}\n`;
    const opts = { min_tokens: 10, max_tokens: 150, overlap_tokens: 20 };
    const chunks = await chunkSource(text, 'javascript', opts);
    expect(chunks.length).toBeGreaterThan(2);
    events.forEach((event, i) => {
      const first = 4 + i * 6;
      const holding = chunks.filter((c) => c.start_line <= first + 5 && c.end_line >= first);
      expect(holding, event).toHaveLength(1);
      expect(holding[0]?.start_line).toBeLessThanOrEqual(first);
      expect(holding[0]?.end_line).toBeGreaterThanOrEqual(first + 5);
    });
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });

  it('names a function nested in an oversized one by both', async () => {
    const filler = Array.from({ length: 30 }, (_, i) => `  total += count(${i}, shard, options.retries);`).join('\n');
    const text = [
      'export function countAll(shard: Shard, options: Options): number {',
      '  let total = 0;',
      '  function retry(attempt: number): number {',
      filler.replaceAll('total +=', '  attempt +='),
      '    return attempt;',
      '  }',
      filler,
      '  return total + retry(0);',
      '}',
      '',
    ].join('\n');
    // The inner function fits in max_tokens, the whole does not.
    const opts = { min_tokens: 10, max_tokens: 500, overlap_tokens: 0 };
    const chunks = await chunkSource(text, 'typescript', opts);
    const inner = chunkOf(chunks, 'function countAll(shard: Shard, options: Options) > function retry(attempt: number)');
    expect(inner?.start_line).toBe(3);
    expect(inner?.end_line).toBe(35);
    expect(chunks.filter((c) => c.section === 'function countAll(shard: Shard, options: Options)').length).toBeGreaterThan(0);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });

  it('cuts an oversized single statement into overlapping line windows that keep its section', async () => {
    const rows = Array.from({ length: 80 }, (_, i) => `    { shard: ${i}, weight: ${i * 3}, owner: 'team-${i % 7}' },`).join('\n');
    const text = `export function shards(): Shard[] {\n  return [\n${rows}\n  ];\n}\n`;
    const opts = { min_tokens: 10, max_tokens: 120, overlap_tokens: 25 };
    const chunks = await chunkSource(text, 'typescript', opts);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.section === 'function shards()')).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]?.start_line).toBeLessThanOrEqual(chunks[i - 1]?.end_line ?? 0);
      expect(chunks[i]?.start_line).toBeGreaterThan(chunks[i - 1]?.start_line ?? 0);
    }
    expect(chunks[0]?.start_line).toBe(1);
    expect(chunks.at(-1)?.end_line).toBe(84);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });

  it('handles CRLF and empty input', async () => {
    const crlf = TS.replace(/\n/g, '\r\n');
    const chunks = await chunkSource(crlf, 'typescript', OPTS);
    expect(chunks).toEqual(await chunkSource(TS, 'typescript', OPTS));
    expectExactLines(crlf, chunks);
    expect(await chunkSource('', 'typescript', OPTS)).toEqual([]);
    expect(await chunkSource('\n\n   \n', 'python', OPTS)).toEqual([]);
  });

  it('still chunks a file with a syntax error, keeping the declarations around it', async () => {
    const text = [
      'export function before(a: number): number {',
      '  return a + 1;',
      '}',
      '',
      'export function broken(a: number {',
      '  return a +;',
      '',
      'export class After {',
      '  run(): void {}',
      '}',
    ].join('\n');
    const chunks = await chunkSource(text, 'typescript', WHOLE);
    expect(outline(chunks)).toEqual([
      '1-3 function before(a: number)',
      // Recovery runs the broken function on to the end: its lines stay indexed, under its name.
      '5-10 function broken(a: number',
    ]);
    expect(chunks.at(-1)?.content).toContain('export class After');
    expectExactLines(text, chunks);
  });

  it('parses .tsx files with the TSX grammar', async () => {
    const text = [
      "import React from 'react';",
      '',
      '/** One search hit. */',
      'export function Hit({ title, score }: HitProps) {',
      '  return <li className="hit">{title} <small>{score.toFixed(2)}</small></li>;',
      '}',
      '',
      'export const List = ({ hits }: { hits: HitProps[] }) => <ul>{hits.map((h) => <Hit {...h} />)}</ul>;',
    ].join('\n');
    const chunks = await chunkSource(text, 'typescript', WHOLE, 'src/Hit.tsx');
    expect(outline(chunks)).toEqual([
      '1-1 (module header)',
      '3-6 function Hit({ title, score }: HitProps)',
      '8-8 function List({ hits }: { hits: HitProps[] })',
    ]);
  });
});

describe('chunkSource: JavaScript', () => {
  it('keeps require() imports in the module header and module.exports as top-level code', async () => {
    const text = [
      "'use strict';",
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      '',
      'function readConfig(dir) {',
      "  return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));",
      '}',
      '',
      'module.exports = { readConfig };',
    ].join('\n');
    const chunks = await chunkSource(text, 'javascript', WHOLE);
    expect(outline(chunks)).toEqual(['1-3 (module header)', '5-7 function readConfig(dir)', '9-9 (top level)']);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: JavaScript declared by assignment', () => {
  it('chunks prototype methods, exports and assigned classes as declarations, named by what they assign', async () => {
    const text = [
      "'use strict';",
      "const Base = require('./base');",
      '',
      '/**',
      ' * Runs the suite.',
      ' */',
      'Runner.prototype.run = function (fn, opts) {',
      '  return fn(opts);',
      '};',
      '',
      'exports.lookup = (name) => name.trim();',
      '',
      'module.exports = class Reporter extends Base {',
      '  done() {}',
      '};',
      '',
      'Runner.immediately = global.setImmediate;',
    ].join('\n');
    const chunks = await chunkSource(text, 'javascript', WHOLE);
    expect(outline(chunks)).toEqual([
      '1-2 (module header)',
      '4-9 function Runner.prototype.run(fn, opts)',
      '11-11 function exports.lookup(name)',
      '13-15 class Reporter',
      '17-17 (top level)',
    ]);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: merging small declarations', () => {
  it('stops a merged run once it reaches min_tokens, so each function stays near its own size', async () => {
    // Six 4-line functions of ~100 characters each: min_tokens 40 (~160 characters) takes two per chunk.
    const text = Array.from({ length: 6 }, (_, i) => [`function step${i}(input) {`, `  const value = input.items[${i}] ?? null;`, '  return value === null ? 0 : value.total;', '}', ''].join('\n')).join('\n');
    const chunks = await chunkSource(text, 'javascript', { min_tokens: 40, max_tokens: 400, overlap_tokens: 0 });
    expect(outline(chunks)).toEqual([
      '1-9 function step0(input), function step1(input)',
      '11-19 function step2(input), function step3(input)',
      '21-29 function step4(input), function step5(input)',
    ]);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: JavaScript classes', () => {
  it('names methods, accessors and arrow-function fields of a class it splits', async () => {
    const text = [
      'export class Poller {',
      '  /** Called for every event. */',
      '  onEvent = async (event) => {',
      '    await this.queue.push(event.payload, { priority: event.priority ?? 0 });',
      '  };',
      '',
      '  get pending() {',
      '    return this.queue.length + this.inflight.size + this.retries.length;',
      '  }',
      '',
      '  static #backoff(attempt) {',
      '    return Math.min(30_000, 2 ** attempt * 100 + Math.random() * 100);',
      '  }',
      '}',
    ].join('\n');
    const chunks = await chunkSource(text, 'javascript', { min_tokens: 1, max_tokens: 40, overlap_tokens: 0 });
    expect(outline(chunks)).toEqual([
      '1-1 class Poller',
      '2-5 class Poller > onEvent(event)',
      '7-9 class Poller > get pending()',
      '11-13 class Poller > static #backoff(attempt)',
    ]);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: Python', () => {
  const PY = `"""Index files into the library."""
import hashlib
from pathlib import Path


# Files larger than this are skipped.
MAX_BYTES = 1_000_000


@lru_cache(maxsize=128)
def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Indexer:
    """Walks a folder and indexes what changed."""

    def __init__(self, store, embedder):
        self.store = store
        self.embedder = embedder

    @retry(times=3)
    def index_file(self, path: Path) -> int:
        text = path.read_text()
        chunks = chunk(text)
        vectors = self.embedder.embed([c.content for c in chunks])
        self.store.upsert(path, chunks, vectors)
        return len(chunks)

    async def index_all(self, root: Path) -> int:
        total = 0
        for path in root.rglob("*.md"):
            total += self.index_file(path)
        return total


if __name__ == "__main__":
    Indexer(None, None).index_all(Path("."))
`;

  it('names defs and classes, attaches decorators and splits a large class at methods', async () => {
    const opts = { min_tokens: 5, max_tokens: 100, overlap_tokens: 0 };
    const chunks = await chunkSource(PY, 'python', opts);
    expect(outline(chunks)).toEqual([
      '1-7 (module header)',
      '10-12 def file_hash(path: Path)',
      '15-16 class Indexer',
      '18-20 class Indexer > def __init__(self, store, embedder)',
      '22-28 class Indexer > def index_file(self, path: Path)',
      '30-34 class Indexer > def index_all(self, root: Path)',
      '37-38 (top level)',
    ]);
    expect(chunkOf(chunks, 'def file_hash(path: Path)')?.content.startsWith('@lru_cache(maxsize=128)\ndef file_hash')).toBe(true);
    expect(chunkOf(chunks, 'class Indexer > def index_file(self, path: Path)')?.content.startsWith('    @retry(times=3)\n    def index_file')).toBe(true);
    expect(chunks[0]?.content).toContain('MAX_BYTES = 1_000_000');
    expectWithinMax(chunks, opts);
    expectExactLines(PY, chunks);
  });

  it('keeps a class whole when it fits', async () => {
    const chunks = await chunkSource(PY, 'python', { min_tokens: 5, max_tokens: 400, overlap_tokens: 0 });
    expect(chunkOf(chunks, 'class Indexer')?.content).toContain('async def index_all');
  });
});

describe('chunkSource: Go', () => {
  it('names functions, methods by receiver type, and types', async () => {
    const text = `package store

import (
\t"context"
\t"errors"
)

// ErrNotFound is returned when a point does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps vectors and payloads.
type Store struct {
\tpoints map[string]Point
}

// Search returns the closest points to the query vector.
func (s *Store) Search(ctx context.Context, q []float32, limit int) ([]Hit, error) {
\thits := make([]Hit, 0, limit)
\treturn hits, nil
}

func New() *Store {
\treturn &Store{points: map[string]Point{}}
}
`;
    const chunks = await chunkSource(text, 'go', WHOLE);
    expect(outline(chunks)).toEqual([
      '1-6 (module header)',
      '8-9 var ErrNotFound',
      '11-14 type Store',
      '16-20 func Store.Search(ctx context.Context, q []float32, limit int)',
      '22-24 func New()',
    ]);
    expect(chunkOf(chunks, 'func Store.Search(ctx context.Context, q []float32, limit int)')?.content.startsWith('// Search returns')).toBe(true);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: Rust', () => {
  const RS = `use std::collections::HashMap;

/// A point with its payload.
#[derive(Debug, Clone)]
pub struct Point {
    pub id: String,
    pub vector: Vec<f32>,
}

pub trait Store {
    fn upsert(&mut self, points: Vec<Point>);
}

pub struct Qdrant {
    url: String,
}

impl Store for Qdrant {
    /// Sends every point, one request each.
    fn upsert(&mut self, points: Vec<Point>) {
        for p in points {
            self.send(p);
        }
    }

    fn send(&self, point: Point) {
        self.client.put(&self.url, point);
    }
}

pub async fn connect(url: &str) -> Result<Qdrant, Error> {
    Ok(Qdrant { url: url.to_string() })
}
`;

  it('names impl blocks with their trait and attaches doc comments and attributes', async () => {
    const chunks = await chunkSource(RS, 'rust', WHOLE);
    expect(outline(chunks)).toEqual([
      '1-1 (module header)',
      '3-8 struct Point',
      '10-12 trait Store',
      '14-16 struct Qdrant',
      '18-29 impl Store for Qdrant',
      '31-33 fn connect(url: &str)',
    ]);
    expect(chunkOf(chunks, 'struct Point')?.content.startsWith('/// A point with its payload.\n#[derive(Debug, Clone)]\n')).toBe(true);
    expectExactLines(RS, chunks);
  });

  it('splits an impl block at its functions', async () => {
    const opts = { min_tokens: 1, max_tokens: 40, overlap_tokens: 0 };
    const chunks = await chunkSource(RS, 'rust', opts);
    expect(outline(chunks).filter((s) => s.includes('impl'))).toEqual([
      '18-18 impl Store for Qdrant',
      '19-24 impl Store for Qdrant > fn upsert(&mut self, points: Vec<Point>)',
      '26-28 impl Store for Qdrant > fn send(&self, point: Point)',
    ]);
    expectExactLines(RS, chunks);
  });
});

describe('chunkSource: Java', () => {
  it('splits a large class at methods, keeping annotations and Javadoc with them', async () => {
    const method = (name: string, n: number): string =>
      [
        '    /**',
        `     * Handles ${name} requests.`,
        '     */',
        '    @Override',
        `    public List<Hit> ${name}(String query, int limit) throws IOException {`,
        ...Array.from({ length: n }, (_, i) => `        hits.add(index.lookup(query, ${i}));`),
        '        return hits;',
        '    }',
      ].join('\n');
    const text = [
      'package ai.library;',
      '',
      'import java.util.List;',
      '',
      '@Service',
      'public class SearchService implements Searcher {',
      '    private final Index index;',
      '',
      method('search', 10),
      '',
      method('suggest', 10),
      '}',
      '',
    ].join('\n');
    const opts = { min_tokens: 5, max_tokens: 150, overlap_tokens: 0 };
    const chunks = await chunkSource(text, 'java', opts);
    expect(outline(chunks)).toEqual([
      '1-3 (module header)',
      '5-7 class SearchService',
      '9-25 class SearchService > search(String query, int limit)',
      '27-43 class SearchService > suggest(String query, int limit)',
    ]);
    expect(chunkOf(chunks, 'class SearchService')?.content.startsWith('@Service\npublic class')).toBe(true);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: C#', () => {
  it('names namespaces, types and methods and splits them when large', async () => {
    const text = [
      'using System.Collections.Generic;',
      '',
      'namespace Library.Search',
      '{',
      '    /// <summary>Keeps hits in memory.</summary>',
      '    [Serializable]',
      '    public sealed class MemoryStore : IStore',
      '    {',
      '        private readonly List<Hit> hits = new();',
      '',
      '        /// <summary>Finds hits whose title contains the query.</summary>',
      '        public IReadOnlyList<Hit> Search(string query, int limit = 10)',
      '        {',
      '            return hits.FindAll(h => h.Title.Contains(query)).GetRange(0, limit);',
      '        }',
      '',
      '        public void Add(Hit hit) => hits.Add(hit);',
      '    }',
      '',
      '    public record Hit(string Title, double Score);',
      '}',
    ].join('\n');
    const chunks = await chunkSource(text, 'csharp', { min_tokens: 1, max_tokens: 80, overlap_tokens: 0 });
    expect(outline(chunks)).toEqual([
      '1-1 (module header)',
      '3-4 namespace Library.Search',
      '5-9 namespace Library.Search > class MemoryStore',
      '11-15 namespace Library.Search > class MemoryStore > Search(string query, int limit = 10)',
      '17-17 namespace Library.Search > class MemoryStore > Add(Hit hit)',
      '20-20 namespace Library.Search > record Hit',
    ]);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: languages without a grammar', () => {
  it('finds Kotlin declarations by line patterns', async () => {
    const text = [
      'package library',
      '',
      '/** Scores a hit. */',
      'fun score(hit: Hit): Double = hit.score * 2',
      '',
      'data class Hit(val title: String, val score: Double)',
    ].join('\n');
    const chunks = await chunkSource(text, 'kotlin', WHOLE);
    expect(outline(chunks)).toEqual(['1-1 (module header)', '3-4 fun score', '6-6 class Hit']);
    expectExactLines(text, chunks);
  });

  it('names SQL statements', async () => {
    const sql = [
      '-- Documents and their chunks.',
      'CREATE TABLE IF NOT EXISTS files (',
      '  path TEXT PRIMARY KEY',
      ');',
      '',
      'CREATE INDEX files_path ON files (path);',
      '',
      "INSERT INTO files VALUES ('README.md');",
    ].join('\n');
    expect(sections(await chunkSource(sql, 'sql', WHOLE))).toEqual(['CREATE TABLE files', 'CREATE INDEX files_path', 'INSERT INTO files']);
  });

  it('uses line windows for unknown languages and files without declarations', async () => {
    const text = Array.from({ length: 100 }, (_, i) => `(set! counter-${i} (+ counter-${i} 1))`).join('\n');
    const opts = { min_tokens: 10, max_tokens: 100, overlap_tokens: 20 };
    for (const language of ['lisp', 'typescript']) {
      const chunks = await chunkSource(text, language, opts);
      expect(chunks.length).toBeGreaterThan(5);
      expect(chunks.every((c) => c.section === '')).toBe(true);
      expect(chunks[0]?.start_line).toBe(1);
      expect(chunks.at(-1)?.end_line).toBe(100);
      for (let i = 1; i < chunks.length; i++) expect(chunks[i]?.start_line).toBeLessThanOrEqual(chunks[i - 1]?.end_line ?? 0);
      expectWithinMax(chunks, opts);
      expectExactLines(text, chunks);
    }
  });

  it('cuts a minified line longer than max_tokens without exceeding it', async () => {
    const text = `var a=${'[1,2,3],'.repeat(2000)}0;`.replace(' ', '\t');
    const opts = { min_tokens: 10, max_tokens: 100, overlap_tokens: 10 };
    const chunks = await chunkSource(text, 'javascript', opts);
    expect(chunks.length).toBeGreaterThan(30);
    expect(chunks.map((c) => c.content).join('') === text.replace('\t', '')).toBe(true);
    expect(chunks.every((c) => c.start_line === 1 && c.end_line === 1)).toBe(true);
    expectWithinMax(chunks, opts);
  });
});

describe('chunkSource: properties', () => {
  interface Template {
    language: string;
    header: string;
    doc: string;
    open: (name: string) => string;
    line: (i: number) => string;
    close: string[];
    label: (name: string) => string;
  }
  const TEMPLATES: Template[] = [
    {
      language: 'typescript',
      header: "import { sum } from './sum.js';",
      doc: '/** Adds the shard counts. */',
      open: (n) => `export function ${n}(a: number): number {`,
      line: (i) => `  a += sum(${i});`,
      close: ['  return a;', '}'],
      label: (n) => `function ${n}(a: number)`,
    },
    {
      language: 'javascript',
      header: "const { sum } = require('./sum');",
      doc: '// Adds the shard counts.',
      open: (n) => `function ${n}(a) {`,
      line: (i) => `  a += sum(${i});`,
      close: ['  return a;', '}'],
      label: (n) => `function ${n}(a)`,
    },
    {
      language: 'python',
      header: 'from sums import total',
      doc: '# Adds the shard counts.',
      open: (n) => `def ${n}(a):`,
      line: (i) => `    a += total(${i})`,
      close: ['    return a'],
      label: (n) => `def ${n}(a)`,
    },
    {
      language: 'go',
      header: 'package shards',
      doc: '// Adds the shard counts.',
      open: (n) => `func ${n}(a int) int {`,
      line: (i) => `\ta += total(${i})`,
      close: ['\treturn a', '}'],
      label: (n) => `func ${n}(a int)`,
    },
    {
      language: 'rust',
      header: 'use crate::sums::total;',
      doc: '/// Adds the shard counts.',
      open: (n) => `pub fn ${n}(a: i32) -> i32 {`,
      line: (i) => `    let a = a + total(${i});`,
      close: ['    a', '}'],
      label: (n) => `fn ${n}(a: i32)`,
    },
  ];
  const declarations = fc.array(fc.record({ doc: fc.boolean(), body: fc.integer({ min: 0, max: 12 }), gap: fc.integer({ min: 1, max: 3 }) }), {
    minLength: 1,
    maxLength: 12,
  });
  const options = fc
    .record({ min_tokens: fc.integer({ min: 1, max: 60 }), max_tokens: fc.integer({ min: 16, max: 150 }), overlap: fc.nat(40) })
    .map((o) => ({ min_tokens: o.min_tokens, max_tokens: o.max_tokens, overlap_tokens: Math.min(o.overlap, o.max_tokens - 1) }));

  /** A file of functions with the 1-based lines each one (with its doc comment) occupies. */
  function build(t: Template, decls: readonly { doc: boolean; body: number; gap: number }[]) {
    const lines = [t.header];
    const spans = decls.map((d, i) => {
      lines.push(...Array<string>(d.gap).fill(''));
      const start = lines.length + 1;
      if (d.doc) lines.push(t.doc);
      lines.push(t.open(`f${i}`), ...Array.from({ length: d.body }, (_, j) => t.line(j)), ...t.close);
      return { start, end: lines.length, label: t.label(`f${i}`) };
    });
    return { text: `${lines.join('\n')}\n`, spans };
  }

  it('gives each declaration one chunk on exactly its lines, named by its signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TEMPLATES), declarations, async (t, decls) => {
        const { text, spans } = build(t, decls);
        const chunks = await chunkSource(text, t.language, WHOLE);
        expect(outline(chunks)).toEqual(['1-1 (module header)', ...spans.map((s) => `${s.start}-${s.end} ${s.label}`)]);
      }),
      { numRuns: 60 },
    );
  });

  it('covers every declaration line with chunks on their true lines and within max_tokens, whatever the limits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TEMPLATES), declarations, options, fc.boolean(), async (t, decls, opts, crlf) => {
        const built = build(t, decls);
        const text = crlf ? built.text.replace(/\n/g, '\r\n') : built.text;
        const lines = text.split(/\r?\n/);
        const chunks = await chunkSource(text, t.language, opts);
        for (const c of chunks) {
          expect(c.content.trim()).not.toBe('');
          expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
          expect(c.start_line).toBeGreaterThanOrEqual(1);
          expect(c.end_line).toBeLessThanOrEqual(lines.length);
          expect(lines.slice(c.start_line - 1, c.end_line).join('\n')).toContain(c.content);
        }
        for (const span of built.spans) {
          for (let line = span.start; line <= span.end; line++) {
            expect(chunks.some((c) => c.start_line <= line && line <= c.end_line)).toBe(true);
          }
          // Every piece of a declaration keeps its name.
          const inside = chunks.filter((c) => c.start_line >= span.start && c.end_line <= span.end);
          for (const c of inside) expect(c.section).toContain(span.label);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps chunks on their true lines for any mix of lines, valid or not, in every language', async () => {
    const LINES = [
      "import { x } from './x.js';", '', '/** Doc. */', '@decorator()', 'export function run(a: number) {', '  return a;', '}',
      'export class Store {', '  private rows = new Map();', '  async search(q: string) {', '    return [];', '  }',
      'def handler(event):', '    return event', 'class Indexer:', '    def run(self):', 'func (s *Store) Get() {',
      'impl Store for Qdrant {', '    fn get(&self) {}', 'public void Run() {', 'namespace X {', 'const big = ' + '1 + '.repeat(120) + '1;',
      '\t', 'x'.repeat(500), '"unterminated', '/* open comment',
    ];
    const files = fc
      .tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 120, size: 'max' }), fc.boolean())
      .map(([lines, crlf]) => lines.join(crlf ? '\r\n' : '\n'));
    const languages = fc.constantFrom('typescript', 'javascript', 'python', 'go', 'rust', 'java', 'csharp', 'cpp', 'kotlin', 'unknown');
    await fc.assert(
      fc.asyncProperty(files, options, languages, async (text, opts, language) => {
        const lines = text.split(/\r?\n/);
        for (const c of await chunkSource(text, language, opts)) {
          expect(c.content.trim()).not.toBe('');
          expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
          expect(lines.slice(c.start_line - 1, c.end_line).join('\n')).toContain(c.content);
        }
      }),
      { numRuns: 300 },
    );
  });
});
