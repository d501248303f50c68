import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_PREFIX, TokenError, TokenStore, tokenFile } from '../../server/auth/token-store.js';
import { secretContentReason } from '../../shared/file-rules.js';

/** Every byte the store left on disk (the database and any journal next to it). */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).map((name) => readFileSync(path.join(dir, name)));
}

describe('TokenStore', () => {
  let dir: string;
  let store: TokenStore;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-tokens-'));
    store = TokenStore.open(path.join(dir, 'data'));
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues random ail_ tokens of 32 bytes and verifies them to their developer', () => {
    const alice = store.create('alice');
    const ops = store.create('ops', { admin: true });
    expect(alice.token).toMatch(/^ail_[A-Za-z0-9_-]{43}$/);
    expect(alice.token).not.toBe(ops.token);
    expect(store.verify(alice.token)).toEqual({ name: 'alice', admin: false });
    expect(store.verify(ops.token)).toEqual({ name: 'ops', admin: true });
    expect(store.count()).toBe(2);
  });

  it('issues tokens that the secret patterns recognise, so no document holding one is indexed', () => {
    const { token } = store.create('alice');
    expect(secretContentReason(`curl -H "Authorization: Bearer ${token}" …`)).toBe('secret-looking: contains an AI Library server token');
    expect(secretContentReason(`AI_LIBRARY_TOKEN=${token}\n`)).not.toBeNull();
    // The prefix alone, or a longer run that only starts like a token, is not one.
    expect(secretContentReason('tokens start with ail_ and 43 more characters')).toBeNull();
    expect(secretContentReason(`${token}x`)).toBeNull();
  });

  it('rejects wrong, truncated, unprefixed and empty tokens', () => {
    const { token } = store.create('alice');
    expect(store.verify(token.slice(0, -1))).toBeNull();
    expect(store.verify(token + 'x')).toBeNull();
    expect(store.verify(token.slice(TOKEN_PREFIX.length))).toBeNull();
    expect(store.verify(`${TOKEN_PREFIX}${'A'.repeat(43)}`)).toBeNull();
    expect(store.verify('')).toBeNull();
  });

  it('stores only hashes: the token is nowhere on disk, and the file is private', () => {
    const { token } = store.create('alice');
    store.verify(token);
    const dataDir = path.join(dir, 'data');
    const blobs = filesUnder(dataDir);
    expect(blobs.length).toBeGreaterThan(0);
    for (const blob of blobs) {
      expect(blob.includes(token)).toBe(false);
      expect(blob.includes(token.slice(TOKEN_PREFIX.length))).toBe(false);
    }
    if (process.platform !== 'win32') expect(statSync(tokenFile(dataDir)).mode & 0o077).toBe(0);
  });

  it('lists name, role and dates, never the token or its hash', () => {
    const { token } = store.create('bob', { admin: true });
    const listed = store.list();
    expect(listed).toEqual([{ name: 'bob', admin: true, created_at: expect.any(String), last_used_at: null }]);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(Object.keys(listed[0]!).sort()).toEqual(['admin', 'created_at', 'last_used_at', 'name']);
  });

  it('records when a token was last used', () => {
    const { token } = store.create('alice');
    expect(store.list()[0]!.last_used_at).toBeNull();
    store.verify(token);
    const used = store.list()[0]!.last_used_at;
    expect(used).not.toBeNull();
    expect(Date.parse(used!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses names that cannot be developer names, and duplicates', () => {
    for (const bad of ['', 'a b', '..', '.', 'x/y', 'é', 'a'.repeat(65)]) {
      expect(() => store.create(bad), bad).toThrow(TokenError);
    }
    store.create('alice');
    expect(() => store.create('alice')).toThrow(/exists; rotate it with "npm run token -- rotate alice"/);
    expect(store.count()).toBe(1);
  });

  it('revokes by name: the token stops working at once', () => {
    const { token } = store.create('alice');
    expect(store.revoke('alice')).toBe(true);
    expect(store.verify(token)).toBeNull();
    expect(store.revoke('alice')).toBe(false);
    expect(store.count()).toBe(0);
  });

  it('rotates: same developer and role, new token, old one dead', () => {
    const old = store.create('ops', { admin: true });
    const next = store.rotate('ops');
    expect(next.token).not.toBe(old.token);
    expect(store.verify(old.token)).toBeNull();
    expect(store.verify(next.token)).toEqual({ name: 'ops', admin: true });
    expect(() => store.rotate('nobody')).toThrow(/no token named "nobody"/);
  });

  it('sees tokens created and revoked by another process (the CLI) without reopening', () => {
    const cli = TokenStore.open(path.join(dir, 'data'));
    try {
      expect(store.count()).toBe(0);
      const { token } = cli.create('carol');
      expect(store.count()).toBe(1);
      expect(store.verify(token)).toEqual({ name: 'carol', admin: false });
      const rotated = cli.rotate('carol');
      expect(store.verify(token)).toBeNull();
      expect(store.verify(rotated.token)).toEqual({ name: 'carol', admin: false });
      cli.revoke('carol');
      expect(store.verify(rotated.token)).toBeNull();
      expect(store.count()).toBe(0);
    } finally {
      cli.close();
    }
  });
});
