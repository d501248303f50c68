import type { SectionResult } from './section.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UNCATEGORIZED } from '../shared/api-types.js';
import { chunkFile } from '../server/indexing/chunker.js';
import type { Services } from '../server/services.js';
import { markdownTable, withStarterLibrary } from './starter-library.js';

/**
 * Filing accuracy (issue 11, point 8) on a small labelled set: every starter
 * document, filed by its words alone as if it were new (leave-one-out: its
 * front matter ignored, the centroids built without it), labelled with the
 * category its author gave it; new documents on the library's topics written
 * for this set (eval/filing-docs/inside/, labelled below); and documents the
 * library is not about, labelled `uncategorized`: some written for this set
 * (eval/filing-docs/outside/), some public text installed with the
 * dependencies (READMEs and a licence).
 */

/** New documents on the library's own topics, without front matter, and where they belong. */
const INSIDE: Record<string, string> = {
  'eval/filing-docs/inside/restore-drill.md': 'operations/backup-restore',
  'eval/filing-docs/inside/search-tips.md': 'using-the-library/searching',
  'eval/filing-docs/inside/oncall-handover.md': 'team-practices/incident-response',
  'eval/filing-docs/inside/extension-settings.md': 'using-the-library/vscode-extension',
};

/** Public text shipped with the dependencies; skipped (and reported) when a package is not installed. */
const INSTALLED_PUBLIC_TEXT = ['node_modules/ms/readme.md', 'node_modules/chalk/readme.md', 'node_modules/chalk/license'];

export interface FilingCase {
  document: string;
  label: string;
  /** What the classifier says now. */
  filed: string;
  /** The cosine to the best node. */
  score: number;
  /** What the earlier rule (one absolute threshold, taxonomy.min_confidence) would have said. */
  thresholdOnly: string;
}

async function vectorsOf(services: Services, rel: string, text: string): Promise<Float32Array[]> {
  const chunked = await chunkFile(rel, text, services.config.settings.chunking);
  if (!chunked || chunked.chunks.length === 0) throw new Error(`eval: ${rel} gives no chunks; use a supported file type`);
  return services.embedder.embed(
    chunked.chunks.map((c) => (c.section ? `${c.section}\n${c.content}` : c.content)),
    'document',
  );
}

function judge(services: Services, document: string, label: string, vectors: Float32Array[], filePath?: string): FilingCase {
  const { classifier, config } = services;
  const best = classifier.rank(vectors, filePath)[0];
  const filed = classifier.classify(vectors, undefined, filePath);
  const thresholdOnly = best && best.score >= config.settings.taxonomy.min_confidence ? best.path.full_path : UNCATEGORIZED;
  return { document, label, filed: filed.taxonomy.full_path, score: best?.score ?? 0, thresholdOnly };
}

/** The labelled set, classified by the services' classifier (the starter library must be indexed). */
export async function filingCases(services: Services, root = process.cwd()): Promise<{ cases: FilingCase[]; missing: string[] }> {
  const cases: FilingCase[] = [];
  await services.classifier.syncMembers(services.store);
  for (const f of await services.store.listFiles()) {
    // Only documents whose author named the category carry a label.
    if (f.confidence !== 1) continue;
    const vectors = (await services.store.fileChunks(f.file_path)).map((p) => p.vector);
    cases.push(judge(services, f.file_path, f.taxonomy.full_path, vectors, f.file_path));
  }
  const written = path.join(root, 'eval', 'filing-docs', 'outside');
  const outside = [...readdirSync(written).map((n) => path.join('eval', 'filing-docs', 'outside', n)), ...INSTALLED_PUBLIC_TEXT];
  const labelled = [...Object.entries(INSIDE), ...outside.map((rel): [string, string] => [rel, UNCATEGORIZED])];
  const missing: string[] = [];
  for (const [rel, label] of labelled) {
    const file = path.join(root, rel);
    if (!existsSync(file)) {
      missing.push(rel);
      continue;
    }
    // A licence file has no extension; it is plain text.
    const name = path.extname(rel) ? rel : `${rel}.txt`;
    cases.push(judge(services, rel, label, await vectorsOf(services, name, readFileSync(file, 'utf8'))));
  }
  return { cases, missing };
}

function share(n: number, of: number): string {
  return of === 0 ? '–' : `${n}/${of} (${Math.round((100 * n) / of)} %)`;
}

/** The eval runner's entry: filing accuracy on the labelled set, against a freshly indexed starter library. */
export async function run(): Promise<SectionResult> {
  const { cases, missing } = await withStarterLibrary((services) => filingCases(services));
  const inside = cases.filter((c) => c.label !== UNCATEGORIZED);
  const outsideCases = cases.filter((c) => c.label === UNCATEGORIZED);
  const right = (pick: (c: FilingCase) => string, of: FilingCase[]) => of.filter((c) => pick(c) === c.label).length;
  const rows = cases.map((c) => [c.document, c.label, c.filed, c.score.toFixed(3), c.thresholdOnly, c.filed === c.label ? 'right' : 'WRONG']);
  const summary = markdownTable(
    ['set', 'documents', 'filed right (now)', 'filed right (threshold only)'],
    [
      ['on the library\'s topics (starter leave-one-out, new notes)', String(inside.length), share(right((c) => c.filed, inside), inside.length), share(right((c) => c.thresholdOnly, inside), inside.length)],
      ['outside the library (uncategorized)', String(outsideCases.length), share(right((c) => c.filed, outsideCases), outsideCases.length), share(right((c) => c.thresholdOnly, outsideCases), outsideCases.length)],
      ['all', String(cases.length), share(right((c) => c.filed, cases), cases.length), share(right((c) => c.thresholdOnly, cases), cases.length)],
    ],
  );
  const detail = markdownTable(['document', 'label', 'filed as', 'best cosine', 'threshold only', 'result'], rows);
  const note = missing.length > 0 ? `\n\nNot installed, left out: ${missing.join(', ')}` : '';
  const accuracy = cases.length === 0 ? 0 : right((c) => c.filed, cases) / cases.length;
  return {
    title: `Filing (starter library, local embedder): ${share(right((c) => c.filed, cases), cases.length)} filed right`,
    table: `${summary}\n\n${detail}${note}`,
    // Every outside document admitted as uncategorized, and nine in ten overall.
    passed: right((c) => c.filed, outsideCases) === outsideCases.length && accuracy >= 0.9,
  };
}
