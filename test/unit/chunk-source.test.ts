import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Chunk, ChunkingOptions } from '../../server/indexing/chunk.js';
import { chunkSource } from '../../server/indexing/chunk-source.js';
import { estimateTokens } from '../../server/indexing/tokens.js';

const OPTS: ChunkingOptions = { min_tokens: 20, max_tokens: 200, overlap_tokens: 20 };

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
  it('chunks at top-level declarations and names them', () => {
    const chunks = chunkSource(TS, 'typescript', { min_tokens: 1, max_tokens: 400, overlap_tokens: 0 });
    expect(sections(chunks)).toEqual([
      '(module header)',
      'const DEFAULT_LIMIT',
      'function createStore',
      'interface SearchOptions',
      'type Scored',
      'enum Mode',
      'function rank',
      'class EmbeddedStore',
    ]);
    expect(chunks[0]?.content).toBe("import { z } from 'zod';\nimport type { Store } from './store.js';");
    expectExactLines(TS, chunks);
  });

  it('attaches doc comments and decorators to the declaration below them', () => {
    const chunks = chunkSource(TS, 'typescript', { min_tokens: 1, max_tokens: 400, overlap_tokens: 0 });
    const create = chunkOf(chunks, 'function createStore');
    expect(create?.content.startsWith('/**\n * Creates the store')).toBe(true);
    expect(create?.start_line).toBe(6);
    expect(chunkOf(chunks, 'class EmbeddedStore')?.content.startsWith('@injectable()\nexport class EmbeddedStore')).toBe(true);
  });

  it('merges tiny consecutive declarations, listing at most three names', () => {
    const chunks = chunkSource(TS, 'typescript', { min_tokens: 60, max_tokens: 400, overlap_tokens: 0 });
    expect(sections(chunks)).toContain('interface SearchOptions, type Scored, enum Mode, …');
    const merged = chunks.find((c) => c.section.startsWith('interface SearchOptions'));
    expect(merged?.content).toContain('export const rank');
    expectExactLines(TS, chunks);
  });

  it('splits a class over max_tokens at its members', () => {
    const opts = { min_tokens: 5, max_tokens: 80, overlap_tokens: 0 };
    const chunks = chunkSource(TS, 'typescript', opts);
    const members = sections(chunks).filter((s) => s.startsWith('class EmbeddedStore'));
    expect(members).toEqual([
      'class EmbeddedStore',
      'class EmbeddedStore > constructor',
      'class EmbeddedStore > method search',
      'class EmbeddedStore > get size',
    ]);
    const search = chunkOf(chunks, 'class EmbeddedStore > method search');
    expect(search?.content.startsWith('  /** Dense search over every stored vector. */\n  async search(')).toBe(true);
    expect(chunkOf(chunks, 'class EmbeddedStore > get size')?.content.endsWith('  }\n}')).toBe(true);
    expectWithinMax(chunks, opts);
    expectExactLines(TS, chunks);
  });

  it('falls back to overlapping line windows inside an oversized function', () => {
    const body = Array.from({ length: 80 }, (_, i) => `  total += await store.count({ shard: ${i} });`).join('\n');
    const text = `export async function countAll(store: Store): Promise<number> {\n  let total = 0;\n${body}\n  return total;\n}\n`;
    const opts = { min_tokens: 10, max_tokens: 120, overlap_tokens: 25 };
    const chunks = chunkSource(text, 'typescript', opts);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.section === 'function countAll')).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1];
      const cur = chunks[i];
      if (!prev || !cur) continue;
      expect(cur.start_line).toBeLessThanOrEqual(prev.end_line);
      expect(cur.start_line).toBeGreaterThan(prev.start_line);
    }
    expect(chunks.at(-1)?.content.endsWith('  return total;\n}')).toBe(true);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });

  it('handles CRLF and empty input', () => {
    const crlf = TS.replace(/\n/g, '\r\n');
    const chunks = chunkSource(crlf, 'typescript', OPTS);
    expect(chunks).toEqual(chunkSource(TS, 'typescript', OPTS));
    expectExactLines(crlf, chunks);
    expect(chunkSource('', 'typescript', OPTS)).toEqual([]);
    expect(chunkSource('\n\n   \n', 'python', OPTS)).toEqual([]);
  });
});

describe('chunkSource: JavaScript', () => {
  it('keeps require() imports in the module header and names module.exports', () => {
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
    const chunks = chunkSource(text, 'javascript', { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 });
    expect(sections(chunks)).toEqual(['(module header)', 'function readConfig', 'module.exports']);
    expect(chunks[0]?.end_line).toBe(3);
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

  it('names defs and classes, attaches decorators and splits a large class at methods', () => {
    const opts = { min_tokens: 5, max_tokens: 100, overlap_tokens: 0 };
    const chunks = chunkSource(PY, 'python', opts);
    expect(sections(chunks)).toEqual([
      '(module header)',
      'def file_hash',
      'class Indexer',
      'class Indexer > def __init__',
      'class Indexer > def index_file',
      'class Indexer > def index_all',
      'if __name__ == "__main__"',
    ]);
    expect(chunkOf(chunks, 'def file_hash')?.content.startsWith('@lru_cache(maxsize=128)\ndef file_hash')).toBe(true);
    expect(chunkOf(chunks, 'class Indexer > def index_file')?.content.startsWith('    @retry(times=3)\n    def index_file')).toBe(true);
    expect(chunks[0]?.content).toContain('MAX_BYTES = 1_000_000');
    expectWithinMax(chunks, opts);
    expectExactLines(PY, chunks);
  });

  it('keeps a class whole when it fits', () => {
    const chunks = chunkSource(PY, 'python', { min_tokens: 5, max_tokens: 400, overlap_tokens: 0 });
    expect(chunkOf(chunks, 'class Indexer')?.content).toContain('async def index_all');
  });
});

describe('chunkSource: Go', () => {
  it('names functions, methods by receiver type, and types', () => {
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
    const chunks = chunkSource(text, 'go', { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 });
    expect(sections(chunks)).toEqual(['(module header)', 'var ErrNotFound', 'type Store', 'func Store.Search', 'func New']);
    expect(chunkOf(chunks, 'func Store.Search')?.content.startsWith('// Search returns')).toBe(true);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: Rust', () => {
  it('names impl blocks with their trait and attaches doc comments and attributes', () => {
    const text = `use std::collections::HashMap;

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
    fn upsert(&mut self, points: Vec<Point>) {
        for p in points {
            self.send(p);
        }
    }
}

pub async fn connect(url: &str) -> Result<Qdrant, Error> {
    Ok(Qdrant { url: url.to_string() })
}
`;
    const chunks = chunkSource(text, 'rust', { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 });
    expect(sections(chunks)).toEqual([
      '(module header)',
      'struct Point',
      'trait Store',
      'struct Qdrant',
      'impl Store for Qdrant',
      'fn connect',
    ]);
    expect(chunkOf(chunks, 'struct Point')?.content.startsWith('/// A point with its payload.\n#[derive(Debug, Clone)]\n')).toBe(true);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: Java', () => {
  it('splits a large class at methods, keeping annotations and Javadoc with them', () => {
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
    const chunks = chunkSource(text, 'java', opts);
    expect(sections(chunks)).toEqual([
      '(module header)',
      'class SearchService',
      'class SearchService > method search',
      'class SearchService > method suggest',
    ]);
    expect(chunkOf(chunks, 'class SearchService')?.content.startsWith('@Service\npublic class')).toBe(true);
    expect(chunkOf(chunks, 'class SearchService > method suggest')?.content.startsWith('    /**\n     * Handles suggest')).toBe(true);
    expectWithinMax(chunks, opts);
    expectExactLines(text, chunks);
  });
});

describe('chunkSource: other languages', () => {
  it('names SQL statements and shell functions', () => {
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
    expect(sections(chunkSource(sql, 'sql', { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 }))).toEqual([
      'CREATE TABLE files',
      'CREATE INDEX files_path',
      'INSERT INTO files',
    ]);
    const sh = '#!/usr/bin/env bash\nset -euo pipefail\n\n# Prints usage.\nusage() {\n  echo "usage: index <dir>"\n}\n\nfunction main {\n  usage\n}\n';
    const chunks = chunkSource(sh, 'shell', { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 });
    expect(sections(chunks)).toEqual(['(module header)', 'function usage', 'function main']);
    expect(chunks[1]?.content.startsWith('# Prints usage.\nusage() {')).toBe(true);
  });

  it('uses line windows for unknown languages and files without declarations', () => {
    const text = Array.from({ length: 100 }, (_, i) => `(set! counter-${i} (+ counter-${i} 1))`).join('\n');
    const opts = { min_tokens: 10, max_tokens: 100, overlap_tokens: 20 };
    for (const language of ['lisp', 'typescript']) {
      const chunks = chunkSource(text, language, opts);
      expect(chunks.length).toBeGreaterThan(5);
      expect(chunks.every((c) => c.section === '')).toBe(true);
      expect(chunks[0]?.start_line).toBe(1);
      expect(chunks.at(-1)?.end_line).toBe(100);
      for (let i = 1; i < chunks.length; i++) expect(chunks[i]?.start_line).toBeLessThanOrEqual(chunks[i - 1]?.end_line ?? 0);
      expectWithinMax(chunks, opts);
      expectExactLines(text, chunks);
    }
  });

  it('cuts a minified line longer than max_tokens without exceeding it', () => {
    const text = `var a=${'[1,2,3],'.repeat(2000)}0;`.replace(' ', '\t');
    const opts = { min_tokens: 10, max_tokens: 100, overlap_tokens: 10 };
    const chunks = chunkSource(text, 'javascript', opts);
    expect(chunks.length).toBeGreaterThan(30);
    // Only the tab at the first cut is trimmed away; nothing else is lost.
    expect(chunks.map((c) => c.content).join('') === text.replace('\t', '')).toBe(true);
    expect(chunks.every((c) => c.start_line === 1 && c.end_line === 1)).toBe(true);
    expectWithinMax(chunks, opts);
  });
});

describe('chunkSource: properties', () => {
  const LINES = [
    "import { x } from './x.js';", '', '/** Doc. */', '@decorator()', 'export function run(a: number) {', '  return a;', '}',
    'export class Store {', '  private rows = new Map();', '  async search(q: string) {', '    return [];', '  }',
    'def handler(event):', '    return event', 'class Indexer:', '    def run(self):', 'func (s *Store) Get() {',
    'impl Store for Qdrant {', '    fn get(&self) {}', 'const big = ' + '1 + '.repeat(120) + '1;', '\t', 'x'.repeat(500),
  ];
  const files = fc
    .tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 150, size: 'max' }), fc.boolean())
    .map(([lines, crlf]) => lines.join(crlf ? '\r\n' : '\n'));
  const options = fc
    .record({ min_tokens: fc.integer({ min: 1, max: 60 }), max_tokens: fc.integer({ min: 16, max: 150 }), overlap: fc.nat(40) })
    .map((o) => ({ min_tokens: o.min_tokens, max_tokens: o.max_tokens, overlap_tokens: Math.min(o.overlap, o.max_tokens - 1) }));
  const languages = fc.constantFrom('typescript', 'python', 'go', 'rust', 'java', 'unknown');

  it('keeps every chunk non-empty, on its true lines and within max_tokens', () => {
    fc.assert(
      fc.property(files, options, languages, (text, opts, language) => {
        const lines = text.split(/\r?\n/);
        for (const c of chunkSource(text, language, opts)) {
          expect(c.content.trim()).not.toBe('');
          expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
          expect(lines.slice(c.start_line - 1, c.end_line).join('\n')).toContain(c.content);
        }
      }),
      { numRuns: 400 },
    );
  });
});
