import { describe, expect, it } from 'vitest';
import { normalizeFilters } from '../../server/stores/filters.js';

describe('normalizeFilters (the one reading of search filters both stores translate)', () => {
  it('no filters: nothing to match', () => {
    expect(normalizeFilters(undefined)).toEqual({ taxonomy: [], contentTypes: [], filePath: null, excludeFilePath: null });
    expect(normalizeFilters({ taxonomy: ' / // ', content_type: [] })).toEqual({ taxonomy: [], contentTypes: [], filePath: null, excludeFilePath: null });
  });

  it('taxonomy: whole segments, trimmed, empty ones dropped', () => {
    expect(normalizeFilters({ taxonomy: '/engineering//backend/' }).taxonomy).toEqual(['engineering', 'backend']);
    expect(normalizeFilters({ taxonomy: ' engineering ' }).taxonomy).toEqual(['engineering']);
  });

  it('content types: one or many, always a list', () => {
    expect(normalizeFilters({ content_type: 'code' }).contentTypes).toEqual(['code']);
    expect(normalizeFilters({ content_type: ['markdown', 'code'] }).contentTypes).toEqual(['markdown', 'code']);
  });

  it('file path: exact unless it ends in "/", then a folder with its slashes tidied; "/" alone is every file', () => {
    expect(normalizeFilters({ file_path: 'docs/a.md' }).filePath).toEqual({ kind: 'file', path: 'docs/a.md' });
    expect(normalizeFilters({ file_path: '/docs//' }).filePath).toEqual({ kind: 'folder', prefix: 'docs/' });
    expect(normalizeFilters({ file_path: 'docs/api/' }).filePath).toEqual({ kind: 'folder', prefix: 'docs/api/' });
    expect(normalizeFilters({ file_path: '/' }).filePath).toBeNull();
  });

  it('carries the file to leave out', () => {
    expect(normalizeFilters(undefined, 'docs/a.md').excludeFilePath).toBe('docs/a.md');
  });
});
