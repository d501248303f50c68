import type { ContentType } from '../../shared/api-types.js';

export interface FileKind {
  content_type: ContentType;
  /** Short lowercase language name for code; null for prose. */
  language: string | null;
}

const PROSE: Record<string, ContentType> = {
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
  txt: 'text',
  rst: 'text',
};

// Config data (json, yaml, toml) is deliberately absent: it makes poor knowledge
// and floods search results with keys and values.
const CODE: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  pyi: 'python',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  kts: 'kotlin',
  scala: 'scala',
  sc: 'scala',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hh: 'cpp',
  hpp: 'cpp',
  hxx: 'cpp',
  cs: 'csharp',
  rb: 'ruby',
  php: 'php',
  swift: 'swift',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  sql: 'sql',
  vue: 'vue',
  svelte: 'svelte',
  css: 'css',
  scss: 'scss',
  less: 'less',
};

/** What kind of content a file holds, judged by extension; null when it is not indexed. */
export function fileKind(relPath: string): FileKind | null {
  const name = relPath.slice(Math.max(relPath.lastIndexOf('/'), relPath.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  const ext = name.slice(dot + 1).toLowerCase();
  const prose = PROSE[ext];
  if (prose) return { content_type: prose, language: null };
  const language = CODE[ext];
  return language ? { content_type: 'code', language } : null;
}
