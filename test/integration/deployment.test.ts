/**
 * The deployment files (docker-compose.yml, Dockerfile, .dockerignore,
 * .env.example) against what the seed's production setup needs and what the
 * server actually reads. No Docker engine is needed: the files are parsed.
 * The variable lists are collected from the code on every run, so a new
 * `env.X` in server/ fails here until .env.example documents it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
function rec(v: unknown, what: string): Rec {
  if (!isRec(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}

/** Every string (keys included) of a parsed YAML tree. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (isRec(v)) return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

/** `${NAME}`, `${NAME:-x}`, `${NAME:?x}` and `$NAME` references; `$$` is compose's escape for a literal `$`. */
function interpolated(texts: string[]): Set<string> {
  const names = new Set<string>();
  for (const t of texts) {
    const unescaped = t.replaceAll('$$', '');
    for (const m of unescaped.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? '');
    for (const m of unescaped.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] ?? '');
  }
  names.delete('');
  return names;
}

/** A service's environment as a map, from either compose form (list of K=V, or mapping). */
function environment(service: Rec): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const s = String(entry);
        const eq = s.indexOf('=');
        return eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
      }),
    );
  }
  if (isRec(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
  return {};
}

/** Short-syntax volume entries as {source, target}; long syntax is read too. */
function mounts(service: Rec): Array<{ source: string; target: string }> {
  const vols = Array.isArray(service.volumes) ? service.volumes : [];
  return vols.map((v) => {
    if (isRec(v)) return { source: String(v.source ?? ''), target: String(v.target ?? '') };
    const [source = '', target = ''] = String(v).split(':');
    return { source, target };
  });
}

function healthTest(service: Rec): string {
  const hc = rec(service.healthcheck, 'healthcheck');
  const test = hc.test;
  expect(hc.disable).not.toBe(true);
  return Array.isArray(test) ? test.map(String).join(' ') : String(test);
}

/** Variable names .env.example lists, set (NAME=...) or shown commented out (# NAME=...). */
function envExampleNames(): Set<string> {
  const names = new Set<string>();
  for (const line of read('.env.example').split('\n')) {
    const m = /^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/**
 * What the server reads from its environment: `env.X`, `env['X']`,
 * `process.env.X`, `config.env?.X` anywhere in server/, the ENV_OVERRIDES table,
 * `${X}` in configs/settings.yaml and the variables settings name (`*_env_var`).
 */
function variablesTheServerReads(): Set<string> {
  const names = new Set<string>();
  for (const file of tsFiles('server')) {
    const text = read(file);
    for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1] ?? '');
    for (const m of text.matchAll(/\benv\??\.?\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\]/g)) names.add(m[1] ?? '');
  }
  const settingsTs = read('server/config/settings.ts');
  const table = /ENV_OVERRIDES[^=]*=\s*\[([\s\S]*?)\n\];/.exec(settingsTs)?.[1];
  if (!table) throw new Error('server/config/settings.ts: ENV_OVERRIDES table not found; update this test');
  for (const m of table.matchAll(/\[\s*'([A-Z][A-Z0-9_]*)'\s*,\s*\[/g)) names.add(m[1] ?? '');
  const settings: unknown = parseYaml(read('configs/settings.yaml'));
  for (const n of interpolated(strings(settings))) names.add(n);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isRec(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k.endsWith('_env_var') && typeof x === 'string' && x.trim()) names.add(x.trim());
        walk(x);
      }
    }
  };
  walk(settings);
  names.delete('');
  return names;
}

const compose = rec(parseYaml(read('docker-compose.yml')), 'docker-compose.yml');
const services = rec(compose.services, 'services');
const namedVolumes = new Set(Object.keys(isRec(compose.volumes) ? compose.volumes : {}));

describe('docker-compose.yml', () => {
  it('defines the qdrant and api services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['qdrant', 'api']));
  });

  describe('qdrant', () => {
    const qdrant = rec(services.qdrant, 'services.qdrant');

    it('runs a pinned Qdrant 1.16 or newer', () => {
      const m = /^qdrant\/qdrant:v?(\d+)\.(\d+)\.(\d+)/.exec(String(qdrant.image));
      expect(m, `image ${String(qdrant.image)} must be qdrant/qdrant:vX.Y.Z`).not.toBeNull();
      const [major, minor] = [Number(m?.[1]), Number(m?.[2])];
      expect(major > 1 || (major === 1 && minor >= 16)).toBe(true);
    });

    it('publishes its ports on 127.0.0.1 only', () => {
      const ports = Array.isArray(qdrant.ports) ? qdrant.ports.map(String) : [];
      expect(ports.length).toBeGreaterThan(0);
      for (const p of ports) expect(p, `qdrant port ${p}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      expect(ports.map((p) => p.split(':')[2])).toEqual(expect.arrayContaining(['6333', '6334']));
    });

    it('requires the API key from QDRANT_API_KEY', () => {
      const env = environment(qdrant);
      expect(env.QDRANT__SERVICE__API_KEY).toBeDefined();
      expect([...interpolated([env.QDRANT__SERVICE__API_KEY ?? ''])]).toEqual(['QDRANT_API_KEY']);
    });

    it('keeps its storage in a named volume', () => {
      const storage = mounts(qdrant).find((m) => m.target === '/qdrant/storage');
      expect(storage).toBeDefined();
      expect(namedVolumes.has(storage?.source ?? '')).toBe(true);
    });

    it('has memory limits and a reservation', () => {
      const resources = rec(rec(qdrant.deploy, 'qdrant.deploy').resources, 'qdrant.deploy.resources');
      expect(String(rec(resources.limits, 'limits').memory)).toMatch(/^\d+(\.\d+)?[KMG]i?B?$/i);
      expect(String(rec(resources.reservations, 'reservations').memory)).toMatch(/^\d+(\.\d+)?[KMG]i?B?$/i);
    });

    it('has a health check that works without curl or wget (the image has neither)', () => {
      const test = healthTest(qdrant);
      expect(test).toMatch(/6333/);
      expect(test).not.toMatch(/\b(curl|wget)\b/);
    });
  });

  describe('api', () => {
    const api = rec(services.api, 'services.api');

    it('is built from ./Dockerfile and restarts unless stopped', () => {
      const build = api.build;
      const context = isRec(build) ? String(build.context ?? '.') : String(build);
      const dockerfile = isRec(build) ? String(build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      expect(path.resolve(ROOT, context, dockerfile)).toBe(path.join(ROOT, 'Dockerfile'));
      expect(api.restart).toBe('unless-stopped');
    });

    it('publishes 8000 and listens on all interfaces inside the container', () => {
      expect((Array.isArray(api.ports) ? api.ports : []).map(String)).toContain('0.0.0.0:8000:8000');
      expect(environment(api).API_HOST).toBe('0.0.0.0');
    });

    it('reads .env and points QDRANT_URL at the qdrant service', () => {
      const envFiles = (Array.isArray(api.env_file) ? api.env_file : [api.env_file]).map((f) => (isRec(f) ? String(f.path) : String(f)));
      expect(envFiles).toContain('.env');
      const url = new URL(environment(api).QDRANT_URL ?? '');
      expect(url.hostname).toBe('qdrant');
      expect(url.port).toBe('6333');
    });

    it('waits for a healthy qdrant', () => {
      const dependsOn = rec(api.depends_on, 'api.depends_on');
      expect(rec(dependsOn.qdrant, 'depends_on.qdrant').condition).toBe('service_healthy');
    });

    it('mounts library, sessions and configs from the host and keeps data in a named volume', () => {
      const m = mounts(api);
      for (const dir of ['library', 'sessions', 'configs']) {
        expect(m, dir).toContainEqual({ source: `./${dir}`, target: `/app/${dir}` });
      }
      const data = m.find((x) => x.target === '/app/data');
      expect(namedVolumes.has(data?.source ?? '')).toBe(true);
    });

    it('keeps backup archives (backup.dir) on the host', () => {
      const settings = rec(parseYaml(read('configs/settings.yaml')), 'settings.yaml');
      const dir = String(rec(settings.backup, 'settings.yaml backup').dir);
      // `${BACKUP_DIR:-./backups}` → ./backups, relative to the container's working directory /app.
      const fallback = /^\$\{[A-Z_]+:-([^}]*)\}$/.exec(dir)?.[1] ?? dir;
      const target = path.posix.join('/app', fallback);
      const mount = mounts(api).find((m) => m.target === target);
      expect(mount, `a mount on ${target}`).toBeDefined();
      expect(mount?.source.startsWith('./')).toBe(true);
    });

    it('has a health check on /health', () => {
      expect(healthTest(api)).toMatch(/\/health\b/);
    });
  });

  it('uses only variables that .env.example lists', () => {
    const listed = envExampleNames();
    const used = interpolated(strings(compose));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((n) => !listed.has(n))).toEqual([]);
  });
});

describe('.env.example', () => {
  const listed = envExampleNames();
  const read_ = variablesTheServerReads();

  it('lists every variable the server reads', () => {
    // The scan itself must see the variables we know the server reads.
    for (const known of ['MISTRAL_API_KEY', 'QDRANT_URL', 'QDRANT_API_KEY', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CONFIG_DIR', 'LOG_LEVEL', 'VECTOR_PROFILE', 'TEI_URL', 'DATA_DIR']) {
      expect(read_, `the scan should find ${known}`).toContain(known);
    }
    expect([...read_].filter((n) => !listed.has(n)).sort()).toEqual([]);
  });

  it('holds placeholders, not secrets', () => {
    const text = read('.env.example');
    for (const line of text.split('\n')) {
      const m = /^([A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD))=(.*)$/.exec(line.trim());
      if (m) expect(['', 'change-me'], `${m[1]} must be a placeholder`).toContain(m[2]);
    }
  });

  it('never leaves LOG_LEVEL empty (pino refuses an empty level)', () => {
    expect(read('.env.example')).not.toMatch(/^LOG_LEVEL=\s*$/m);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  const lastStage = lines.slice(lines.lastIndexOf(froms[froms.length - 1] ?? ''));

  it('is multi-stage on a current Node LTS image', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM\s+node:(22|24)[-.\w]*(\s+AS\s+\S+)?$/i);
  });

  it('builds the server and drops the dev dependencies', () => {
    expect(text).toMatch(/npm ci\b/);
    expect(text).toMatch(/node scripts\/build\.mjs server/);
    expect(text).toMatch(/npm prune --omit=dev/);
  });

  it('runs the final stage as the non-root node user', () => {
    const users = lastStage.filter((l) => /^USER\s/i.test(l));
    expect(users.at(-1)).toMatch(/^USER\s+node$/i);
  });

  it('has a HEALTHCHECK on /health, exposes 8000 and starts dist/server/main.js', () => {
    const hc = lastStage.find((l) => /^HEALTHCHECK\s/i.test(l));
    expect(hc).toMatch(/\/health\b/);
    expect(lastStage).toContain('EXPOSE 8000');
    const cmd = lastStage.filter((l) => /^CMD\s/i.test(l)).at(-1) ?? '';
    expect(JSON.parse(cmd.replace(/^CMD\s+/i, ''))).toEqual(['node', 'dist/server/main.js']);
  });

  it('copies everything the build reads and the bundle needs', () => {
    // scripts/build.mjs bundles these entry points; each folder must reach the build stage.
    const build = read('scripts/build.mjs');
    const entryDirs = [...build.matchAll(/'((?:server|bench)\/[\w-]+\.ts)'/g)].map((m) => (m[1] ?? '').split('/')[0]);
    expect(entryDirs.length).toBeGreaterThan(0);
    for (const dir of new Set([...entryDirs, 'shared', 'scripts'])) expect(text).toMatch(new RegExp(`^COPY\\s+${dir}\\s`, 'm'));
    expect(text).toMatch(/COPY --from=build[^\n]*node_modules/);
    expect(text).toMatch(/COPY --from=build[^\n]*dist\/server/);
    expect(text).toMatch(/COPY[^\n]*\bconfigs\b/);
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim().replace(/^\/|\/$/g, ''))
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps node_modules, data, secrets and local state out of the build context', () => {
    for (const p of ['node_modules', 'data', 'sessions', 'dist', '.git', '.env', 'test-results', '*.vsix', '.e2e-tools']) {
      expect(patterns, p).toContain(p);
    }
  });

  it('does not exclude what the image is built from', () => {
    for (const needed of ['server', 'shared', 'scripts', 'bench', 'configs', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      expect(patterns, needed).not.toContain(needed);
    }
  });
});

describe('monitoring docs', () => {
  /** Series the server registers (`name: 'ailib_…'` in server/). */
  const exposed = new Set(tsFiles('server').flatMap((f) => [...read(f).matchAll(/\bname:\s*'(ailib_[a-z0-9_]+)'/g)].map((m) => m[1] ?? '')));
  const dashboard = rec(JSON.parse(read('docs/grafana-dashboard.json')), 'grafana-dashboard.json');
  const exprs = (function collect(panels: unknown): string[] {
    if (!Array.isArray(panels)) return [];
    return panels.flatMap((p) => {
      if (!isRec(p)) return [];
      const own = Array.isArray(p.targets) ? p.targets.flatMap((t) => (isRec(t) && typeof t.expr === 'string' ? [t.expr] : [])) : [];
      return [...own, ...collect(p.panels)];
    });
  })(dashboard.panels);

  it('the server exposes ailib_ series', () => {
    expect(exposed.size).toBeGreaterThan(0);
  });

  it('the Grafana dashboard queries only series the server exposes, and all of them', () => {
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(ailib_[a-z0-9_]+)/g)].map((m) => (m[1] ?? '').replace(/_(bucket|sum|count)$/, ''))));
    expect([...used].filter((n) => !exposed.has(n))).toEqual([]);
    expect([...exposed].filter((n) => !used.has(n))).toEqual([]);
    if (exprs.some((e) => /\b(process|nodejs)_/.test(e))) {
      expect(tsFiles('server').some((f) => read(f).includes('collectDefaultMetrics'))).toBe(true);
    }
  });

  it('the runbook lists every series', () => {
    const runbook = read('docs/operations.md');
    expect([...exposed].filter((n) => !runbook.includes(`\`${n}\``))).toEqual([]);
  });
});
