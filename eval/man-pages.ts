/**
 * The documentation set: Debian's git manual pages (package `git-man`).
 * Each page is rendered to plain text by groff (`groff -man -Tutf8 -P-cbou`:
 * no overstrike, colour or underline codes), its section titles become
 * markdown headings, and its NAME section becomes the query: the description
 * after "git-xyz - ". The page goes into the library without that section and
 * under an opaque name (`d017.md`), so neither the file name nor a copy of
 * the query gives the answer away.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { shuffled } from './random.js';

/** Commands (1), file formats (5) and guides (7): every page git-man ships. */
const MAN_DIRS = ['/usr/share/man/man1', '/usr/share/man/man5', '/usr/share/man/man7'];

/** A page may quote a few other pages' NAME lines ("see git-log(1): Show commit logs"); more makes it an index. */
const MAX_QUOTED = 5;

export interface DocFile {
  name: string;
  text: string;
}

export interface DocQuery {
  query: string;
  file: string;
}

export interface DocSet {
  files: DocFile[];
  queries: DocQuery[];
}

function render(page: string): string {
  const roff = gunzipSync(readFileSync(page));
  return execFileSync('groff', ['-man', '-Tutf8', '-P-cbou'], { input: roff, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] }).toString('utf8');
}

/** groff's text → markdown: unindented lines are section titles; the running header and footer go. */
function toMarkdown(rendered: string): { description: string; markdown: string } | null {
  const lines = rendered.split('\n');
  const out: string[] = [];
  const name: string[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    const header = i === 0 || /^Git \S+\s+\S.*\s+GIT\S*\(\d\)$/.test(line) || /^GIT\S*\(\d\)\s+Git Manual/.test(line);
    if (header) continue;
    if (line !== '' && !/^\s/.test(line)) {
      section = line;
      if (section !== 'NAME') out.push('', `## ${section}`, '');
      continue;
    }
    if (section === 'NAME') name.push(line.trim());
    else if (section !== '') out.push(line.trim());
  }
  const nameLine = name.join(' ').replace(/\s+/g, ' ').trim();
  const dash = nameLine.indexOf(' - ');
  if (dash < 0) return null;
  const description = nameLine.slice(dash + 3).trim();
  const markdown = out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  return description.split(' ').length >= 2 && markdown.length > 200 ? { description, markdown: `${markdown}\n` } : null;
}

/** null (after saying what to install) when git-man or groff is missing. */
export function gitManPages(): DocSet | null {
  const pages = MAN_DIRS.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^git.*\.[157]\.gz$/.test(f)).map((f) => path.join(dir, f)) : [])).sort();
  if (pages.length === 0) {
    console.log('documentation set skipped: no git manual pages under /usr/share/man; run `apt-get install git-man` (and groff) to include it');
    return null;
  }
  try {
    execFileSync('groff', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('documentation set skipped: groff is not installed; run `apt-get install groff-base` to include it');
    return null;
  }
  const files: DocFile[] = [];
  const queries: DocQuery[] = [];
  shuffled(pages, 11).forEach((page, i) => {
    const parsed = toMarkdown(render(page));
    if (parsed === null) return;
    const name = `d${String(i).padStart(3, '0')}.md`;
    files.push({ name, text: parsed.markdown });
    queries.push({ query: parsed.description, file: name });
  });
  // git(1) lists every command with its NAME line: an index of the set that
  // would answer every query verbatim. A page quoting several others' queries goes.
  const flat = (t: string) => t.toLowerCase().replace(/\s+/g, ' ');
  const indexes = new Set(files.filter((f) => queries.filter((q) => q.file !== f.name && flat(f.text).includes(flat(q.query))).length > MAX_QUOTED).map((f) => f.name));
  return { files: files.filter((f) => !indexes.has(f.name)), queries: queries.filter((q) => !indexes.has(q.file)) };
}
