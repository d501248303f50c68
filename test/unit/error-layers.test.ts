import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HTTP_ERRORS = path.join(ROOT, 'server/http/errors.ts');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every module specifier a file imports or re-exports, resolved to a .ts path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? '');
  return specs.map((s) => (s.startsWith('.') ? path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts') : s));
}

describe('the error model keeps domain code out of HTTP', () => {
  it('finds imports the way the scan below relies on', () => {
    const routes = importsOf(path.join(ROOT, 'server/app.ts'));
    expect(routes).toContain(HTTP_ERRORS);
    expect(routes).toContain('hono');
  });

  it.each(['server/answers', 'server/usage', 'server/auth'])('no module under %s imports server/http/errors.ts', (dir) => {
    const files = tsFiles(path.join(ROOT, dir));
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.filter((f) => importsOf(f).includes(HTTP_ERRORS)).map((f) => path.relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('DomainError is a leaf: it imports nothing from server/', () => {
    const file = path.join(ROOT, 'server/errors/domain-error.ts');
    const fromServer = importsOf(file).filter((s) => s.startsWith(path.join(ROOT, 'server') + path.sep));
    expect(importsOf(file)).toContain(path.join(ROOT, 'shared/error-codes.ts'));
    expect(fromServer).toEqual([]);
  });
});
