import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibraryPathError, normalizeRelativePath, readInLibrary, resolveInLibrary } from '../../server/indexing/library-paths.js';
import { FileFilter } from '../../server/indexing/file-filter.js';

describe('library paths', () => {
  it('normalises harmless forms', () => {
    expect(normalizeRelativePath('./guides//setup.md')).toBe('guides/setup.md');
    expect(normalizeRelativePath('guides\\setup.md')).toBe('guides/setup.md');
    expect(normalizeRelativePath('guides/')).toBe('guides');
  });

  it.each(['../etc/passwd', 'a/../../b', '/etc/passwd', 'C:/Windows', '%2e%2e/x', 'a%2fb', 'a\0b', ''])('refuses %j', (p) => {
    expect(() => normalizeRelativePath(p)).toThrow(LibraryPathError);
  });

  it('refuses a symlink that leads out of the library', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-lib-'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'ailib-out-'));
    writeFileSync(path.join(outside, 'secret.md'), '# secret');
    symlinkSync(outside, path.join(root, 'escape'));
    expect(() => resolveInLibrary(root, 'escape/secret.md')).toThrow(/symbolic link/);
    mkdirSync(path.join(root, 'ok'));
    expect(resolveInLibrary(root, 'ok/new.md').rel).toBe('ok/new.md');
  });
});

describe('file filter', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-filter-'));
  writeFileSync(path.join(root, '.gitignore'), 'build/\n*.log\n');
  writeFileSync(path.join(root, '.libraryignore'), 'drafts/\n');
  const filter = new FileFilter(root, '.libraryignore', 1000);

  it('skips ignored, secret-looking and oversize files with a reason', () => {
    expect(filter.checkPath('build/out.md', 10)).toMatch(/ignored/);
    expect(filter.checkPath('drafts/idea.md', 10)).toMatch(/ignored/);
    expect(filter.checkPath('debug.log', 10)).toMatch(/ignored/);
    expect(filter.checkPath('node_modules/x/readme.md', 10)).toMatch(/ignored/);
    expect(filter.checkPath('config/.env', 10)).toMatch(/secret-looking/);
    expect(filter.checkPath('certs/server.pem', 10)).toMatch(/secret-looking/);
    expect(filter.checkPath('aws-credentials.txt', 10)).toMatch(/secret-looking/);
    expect(filter.checkPath('guides/big.md', 5000)).toMatch(/too large: 5000 bytes/);
    expect(filter.checkPath('guides/setup.md', 10)).toBeNull();
  });

  it('skips binaries and files holding keys', () => {
    expect(filter.checkContent(Buffer.from([0x89, 0x50, 0x00, 0x01]))).toEqual({ reason: 'binary file' });
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----';
    expect(filter.checkContent(Buffer.from(key))).toEqual({ reason: expect.stringMatching(/private key/) });
    expect(filter.checkContent(Buffer.from('# Title\nplain text'))).toEqual({ text: '# Title\nplain text' });
  });
});

describe('openInLibrary: the one check every library read goes through (issue 12, defect 1)', () => {
  function setup() {
    const base = mkdtempSync(path.join(os.tmpdir(), 'ailib-open-'));
    const root = path.join(base, 'library');
    const outside = path.join(base, 'outside');
    mkdirSync(path.join(root, 'docs'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(root, 'docs/inside.md'), 'inside text');
    writeFileSync(path.join(outside, 'private.md'), 'outside text');
    return { root, outside };
  }

  it('reads a regular file and a link that stays inside', async () => {
    const { root } = setup();
    symlinkSync(path.join(root, 'docs/inside.md'), path.join(root, 'docs/alias.md'));
    expect((await readInLibrary(root, 'docs/inside.md'))?.toString()).toBe('inside text');
    expect((await readInLibrary(root, 'docs/alias.md'))?.toString()).toBe('inside text');
  });

  it('refuses a file link and a folder link out of the library', async () => {
    const { root, outside } = setup();
    symlinkSync(path.join(outside, 'private.md'), path.join(root, 'docs/leak.md'));
    symlinkSync(outside, path.join(root, 'linked'));
    await expect(readInLibrary(root, 'docs/leak.md')).rejects.toThrow(/outside the library/);
    await expect(readInLibrary(root, 'linked/private.md')).rejects.toThrow(LibraryPathError);
  });

  it('answers null, without blocking, for what is not a regular file', async () => {
    const { root } = setup();
    execFileSync('mkfifo', [path.join(root, 'docs/pipe.md')]);
    expect(await readInLibrary(root, 'docs/pipe.md')).toBeNull();
    expect(await readInLibrary(root, 'docs/missing.md')).toBeNull();
    expect(await readInLibrary(root, 'docs')).toBeNull();
  });
});
