import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createApp } from '../../server/app.js';
import { loadConfig, type Config, type Env } from '../../server/config/settings.js';
import { createLogger, type Logger } from '../../server/logger.js';
import { createServices, type Services } from '../../server/services.js';

export const REPO_ROOT = path.resolve(__dirname, '../..');

export interface TempEnv {
  root: string;
  library: string;
  env: Env;
  write(rel: string, content: string | Buffer): string;
  cleanup(): void;
}

/** A throwaway library/data/sessions tree using the repo's configs. */
export function tempEnv(files: Record<string, string> = {}, opts: { copyLibrary?: boolean } = {}): TempEnv {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-test-'));
  const library = path.join(root, 'library');
  mkdirSync(library, { recursive: true });
  if (opts.copyLibrary) cpSync(path.join(REPO_ROOT, 'library'), library, { recursive: true });
  const write = (rel: string, content: string | Buffer) => {
    const abs = path.join(library, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    return abs;
  };
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  const env: Env = {
    CONFIG_DIR: path.join(REPO_ROOT, 'configs'),
    LIBRARY_PATH: library,
    DATA_DIR: path.join(root, 'data'),
    SESSIONS_PATH: path.join(root, 'sessions'),
  };
  return { root, library, env, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `tweak` adjusts settings the environment cannot reach (e.g. reliability) before anything starts. */
export async function servicesFor(env: Env, root: string, tweak?: (config: Config) => void): Promise<Services> {
  const config = loadConfig(env, root);
  tweak?.(config);
  return createServices(config);
}

export interface RunningServer {
  url: string;
  services: Services;
  logger: Logger;
  /** What the server logged, chunk by chunk as pino wrote it (empty at level "silent"). */
  logs: string[];
  close(): Promise<void>;
}

/**
 * The real app on a real loopback port, logging through the production logger
 * (redaction included) into `logs`. `tweak` adjusts settings the environment
 * cannot reach (e.g. reliability) before anything starts.
 */
export async function startServer(env: Env, root: string, tweak?: (config: Config) => void, logLevel = 'silent'): Promise<RunningServer> {
  const services = await servicesFor(env, root, tweak);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger(logLevel, sink);
  const app = createApp(services, logger);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    logger,
    logs,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    },
  };
}

/** A response's status, headers, text and, when the text is JSON, the parsed body (else null): error paths may answer anything. */
export async function readReply(res: Response): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** A server over a library of `files`, all of them indexed (a failed or partial index throws with the server's answer). */
export async function startIndexedServer(files: Record<string, string>): Promise<{ env: TempEnv; server: RunningServer }> {
  const env = tempEnv(files);
  const server = await startServer(env.env, env.root);
  const { status, json } = await postJson(`${server.url}/api/library/index`, { all: true });
  const indexed: unknown = json?.summary?.indexed;
  if (status !== 200 || indexed !== Object.keys(files).length) {
    await server.close();
    env.cleanup();
    throw new Error(`indexing the test library answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
  }
  return { env, server };
}
