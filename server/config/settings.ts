import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ZodError } from 'zod';
import { isRecord } from '../../shared/guards.js';
import { SettingsSchema, type Settings } from './schema.js';

export type Env = Record<string, string | undefined>;

/** A setting that cannot be used; the message is one line naming the key and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Config {
  settings: Settings;
  /** Absolute locations, resolved against the directory the server started in. */
  paths: { root: string; configDir: string; library: string; data: string; sessions: string };
  storeKind: 'embedded' | 'qdrant';
  env: Env;
}

/**
 * The environment variables of README "Configuration". They win over the file
 * even where the file does not use `${VAR}`, so an operator can always override.
 */
const ENV_OVERRIDES: ReadonlyArray<[string, [string, string]]> = [
  ['LIBRARY_PATH', ['library', 'path']],
  ['DATA_DIR', ['data', 'dir']],
  ['SESSIONS_PATH', ['sessions', 'path']],
  ['API_HOST', ['api', 'host']],
  ['API_PORT', ['api', 'port']],
  ['QDRANT_URL', ['vector', 'url']],
  ['QDRANT_PORT', ['vector', 'port']],
  ['QDRANT_API_KEY', ['vector', 'api_key']],
  ['VECTOR_STORE', ['vector', 'store']],
  ['EMBEDDINGS_PROVIDER', ['embeddings', 'provider']],
  ['MAX_CONCURRENT_EMBEDDINGS', ['embeddings', 'max_concurrent']],
  ['MISTRAL_SERVER_URL', ['embeddings', 'server_url']],
  ['TEI_URL', ['embeddings', 'tei_url']],
];

const VAR_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. */
export function expandVariables(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_PATTERN, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      return v !== undefined && v !== '' ? v : (fallback ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((v) => expandVariables(v, env));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandVariables(v, env)]));
  }
  return value;
}

/** Applies the overrides and returns which variable set which key, for error messages. */
function applyOverrides(tree: Record<string, unknown>, env: Env): Map<string, string> {
  const applied = new Map<string, string>();
  for (const [name, [section, key]] of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const current = tree[section];
    const target = isRecord(current) ? current : {};
    target[key] = v;
    tree[section] = target;
    applied.set(`${section}.${key}`, name);
  }
  return applied;
}

function describeZodError(err: ZodError, file: string, fromEnv: Map<string, string>): string {
  const issue = err.issues[0];
  if (!issue) return `${file}: invalid settings`;
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${file}: ${key === '(root)' ? '' : key + ': '}unknown key(s) ${issue.keys.join(', ')}; remove or fix the spelling`;
  }
  const source = fromEnv.has(key) ? ` (set by ${fromEnv.get(key)})` : '';
  // Numbers are coerced from strings (env values), so a word shows up as NaN.
  if (issue.code === 'invalid_type' && issue.received === 'nan') return `${file}: ${key}${source}: must be a number`;
  return `${file}: ${key}${source}: ${issue.message}`;
}

export function loadConfig(env: Env = process.env, root: string = process.cwd()): Config {
  const configDir = path.resolve(root, env.CONFIG_DIR || './configs');
  const file = path.join(configDir, 'settings.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot be read; create it or set CONFIG_DIR to the folder that holds settings.yaml`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ConfigError(`${file}: not valid YAML: ${msg}`);
  }
  const tree = expandVariables(raw ?? {}, env);
  if (!isRecord(tree)) throw new ConfigError(`${file}: must be a mapping of sections (library, api, ...)`);
  const fromEnv = applyOverrides(tree, env);
  const parsed = SettingsSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(describeZodError(parsed.error, file, fromEnv));
  const settings = parsed.data;
  const storeKind = settings.vector.store ?? (settings.vector.url ? 'qdrant' : 'embedded');
  if (storeKind === 'qdrant' && !settings.vector.url) {
    throw new ConfigError(`${file}: vector.url: required when the store is qdrant; set QDRANT_URL (e.g. http://localhost:6333)`);
  }
  return {
    settings,
    paths: {
      root,
      configDir,
      library: path.resolve(root, settings.library.path),
      data: path.resolve(root, settings.data.dir),
      sessions: path.resolve(root, settings.sessions.path),
    },
    storeKind,
    env,
  };
}
