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
  const services = await createServices(config);
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
