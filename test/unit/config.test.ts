import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, expandVariables, loadConfig } from '../../server/config/settings.js';

const repoConfigs = path.resolve(__dirname, '../../configs');

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function withSettings(yaml: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-cfg-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'configs'));
  writeFileSync(path.join(dir, 'configs', 'settings.yaml'), yaml);
  return dir;
}

describe('settings', () => {
  it('loads the shipped settings with the seed defaults', () => {
    const config = loadConfig({ CONFIG_DIR: repoConfigs }, '/srv/app');
    expect(config.settings.api.host).toBe('127.0.0.1');
    expect(config.settings.api.port).toBe(8000);
    expect(config.settings.vector.collection_name).toBe('knowledge_library');
    expect(config.settings.embeddings.provider).toBe('local');
    expect(config.storeKind).toBe('embedded');
    expect(config.paths.library).toBe('/srv/app/library');
    expect(config.paths.data).toBe('/srv/app/data');
  });

  it('expands ${VAR:-default} and lets the environment override', () => {
    expect(expandVariables({ a: '${X:-7}', b: ['${Y}'], c: 3 }, { Y: 'y' })).toEqual({ a: '7', b: ['y'], c: 3 });
    const config = loadConfig(
      { CONFIG_DIR: repoConfigs, API_PORT: '9100', DATA_DIR: '/var/lib/ailib', LIBRARY_PATH: 'docs', QDRANT_URL: 'http://q:6333' },
      '/srv/app',
    );
    expect(config.settings.api.port).toBe(9100);
    expect(config.paths.data).toBe('/var/lib/ailib');
    expect(config.paths.library).toBe('/srv/app/docs');
    expect(config.storeKind).toBe('qdrant');
  });

  it('environment overrides win even where the file has literal values', () => {
    const dir = withSettings('library:\n  path: ./lib\napi:\n  port: 8000\n');
    expect(loadConfig({ API_PORT: '8123' }, dir).settings.api.port).toBe(8123);
  });

  it('a bad value stops startup with one line naming the key', () => {
    const dir = withSettings('library:\n  path: ./lib\napi:\n  port: not-a-port\n');
    expect(() => loadConfig({}, dir)).toThrow(ConfigError);
    try {
      loadConfig({}, dir);
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain('api.port');
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  it('names unknown keys and invalid YAML', () => {
    expect(() => loadConfig({}, withSettings('library:\n  path: ./lib\n  pth: x\n'))).toThrow(/library: unknown key\(s\) pth/);
    expect(() => loadConfig({}, withSettings('library: [\n'))).toThrow(/not valid YAML/);
    expect(() => loadConfig({ EMBEDDINGS_PROVIDER: 'openai' }, withSettings('library:\n  path: ./lib\n'))).toThrow(/embeddings\.provider/);
    expect(() => loadConfig({ VECTOR_STORE: 'qdrant' }, withSettings('library:\n  path: ./lib\n'))).toThrow(/QDRANT_URL/);
  });

  it('names the environment variable behind a bad value', () => {
    expect(() => loadConfig({ CONFIG_DIR: repoConfigs, API_PORT: 'abc' }, '/srv/app')).toThrow(/api\.port \(set by API_PORT\): must be a number/);
  });

  it('says where settings.yaml is missing', () => {
    expect(() => loadConfig({ CONFIG_DIR: '/nonexistent' }, '/')).toThrow(/CONFIG_DIR/);
  });
});
