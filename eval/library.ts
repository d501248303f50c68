/**
 * A throwaway library: the files are written under a temp LIBRARY_PATH and
 * indexed by the real indexer into the embedded store with the local embedder
 * in a temp DATA_DIR, exactly as `npm run index` would.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config/settings.js';
import { createServices, type Services } from '../server/services.js';
import { tokenize } from '../server/embedders/local.js';
import { buildTermModel } from '../server/embedders/local-terms.js';
import { saveTermModel } from '../server/embedders/local-terms-file.js';

export interface EvalLibrary {
  services: Services;
  /** Library-relative path of a corpus file. */
  pathOf(name: string): string;
  /** Corpus file name of a library-relative path. */
  nameOf(filePath: string): string;
  chunks: number;
  close(): Promise<void>;
}

export async function indexLibrary(label: string, files: ReadonlyArray<{ name: string; text: string }>): Promise<EvalLibrary> {
  const root = mkdtempSync(path.join(os.tmpdir(), `ailib-eval-${label}-`));
  const folder = label;
  mkdirSync(path.join(root, 'library', folder), { recursive: true });
  for (const f of files) writeFileSync(path.join(root, 'library', folder, f.name), f.text);
  const config = loadConfig(
    { CONFIG_DIR: path.resolve('configs'), LIBRARY_PATH: path.join(root, 'library'), DATA_DIR: path.join(root, 'data') },
    root,
  );
  let services = await createServices(config);
  if (process.env.EVAL_TERMS === '1') {
    await services.indexer.indexAll();
    const texts: string[][] = [];
    let cursor: string | null = null;
    do {
      const page = await services.store.scroll(cursor, 500);
      for (const p of page.points) texts.push(tokenize(p.payload.section ? `${p.payload.section}\n${p.payload.content}` : p.payload.content));
      cursor = page.next;
    } while (cursor !== null);
    const t0 = performance.now();
    const model = buildTermModel(texts);
    console.log(`term model: ${model.terms.size} terms from ${texts.length} chunks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await services.close();
    rmSync(path.join(root, 'data'), { recursive: true, force: true });
    mkdirSync(path.join(root, 'data'), { recursive: true });
    saveTermModel(path.join(root, 'data'), model);
    services = await createServices(config);
  }
  const started = performance.now();
  const res = await services.indexer.indexAll();
  const seconds = (performance.now() - started) / 1000;
  if (res.summary.failed > 0) throw new Error(`eval: ${res.summary.failed} ${label} file(s) failed to index; see the log above`);
  console.log(`${label}: indexed ${res.summary.indexed} files into ${res.summary.chunks} chunks in ${seconds.toFixed(1)} s`);
  return {
    services,
    pathOf: (name) => `${folder}/${name}`,
    nameOf: (filePath) => filePath.slice(folder.length + 1),
    chunks: res.summary.chunks,
    close: async () => {
      await services.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
