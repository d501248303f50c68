import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config/settings.js';
import { createServices, type Services } from '../server/services.js';

/**
 * The repository's own starter library, indexed with the default embedded
 * store and local embedder into a throwaway DATA_DIR: what `npm start` serves
 * on a fresh clone. Evals run from the repository root (npm scripts do).
 */
export async function withStarterLibrary<T>(work: (services: Services, root: string) => Promise<T>, root = process.cwd()): Promise<T> {
  const library = path.join(root, 'library');
  const configs = path.join(root, 'configs');
  if (!existsSync(library) || !existsSync(path.join(configs, 'settings.yaml'))) {
    throw new Error(`eval: ${root} has no library/ and configs/settings.yaml; run it from the repository root`);
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ailib-eval-'));
  try {
    cpSync(library, path.join(tmp, 'library'), { recursive: true });
    // Only these variables: no ANTHROPIC_* or provider keys from the caller's shell, so answers are extractive.
    const config = loadConfig(
      { CONFIG_DIR: configs, LIBRARY_PATH: path.join(tmp, 'library'), DATA_DIR: path.join(tmp, 'data'), SESSIONS_PATH: path.join(tmp, 'sessions') },
      tmp,
    );
    const services = await createServices(config);
    try {
      await services.indexer.indexAll();
      return await work(services, tmp);
    } finally {
      await services.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A Markdown table, as the eval runner prints and the README carries. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
