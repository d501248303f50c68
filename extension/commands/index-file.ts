import ignore, { type Ignore } from 'ignore';
import * as vscode from 'vscode';
import type { IndexFileResult, IndexStatus } from '../../shared/api-types.js';
import { ALWAYS_IGNORED, looksBinary, oversizeReason, secretContentReason, secretNameReason } from '../../shared/file-rules.js';
import { ApiError, type ApiClient } from '../api-client.js';
import { describeFailure, sentence } from '../errors.js';
import { DEFAULT_MAX_FILE_BYTES } from '../../shared/limits.js';
import { workspaceNameOf } from '../settings.js';
import { findLocalFile } from '../source-opener.js';

export const INDEX_FILE = 'aiLibrary.indexFile';

/** Above this many files a folder upload asks first: it may be a mis-click on the repo root. */
const CONFIRM_ABOVE = 200;
const MAX_FILES = 5000;
/** Never walked, whatever .gitignore says: huge and never library material. */
const WALK_EXCLUDE = '**/{node_modules,.git}/**';

export interface FileOutcome {
  /** Workspace-relative path (or the library path for a server-side re-index). */
  path: string;
  status: IndexStatus | 'refused' | 'error' | 'cancelled';
  chunks: number;
  category: string | null;
  reason: string | null;
}

export interface IndexDeps {
  client: ApiClient;
  output: vscode.OutputChannel;
  /** This window's upload progress for the shared connection state; null when done. */
  setIndexing: (progress: { done: number; total: number } | null) => void;
  afterIndex: () => void;
  fail: (err: unknown, doing: string, retry?: () => unknown) => Promise<void>;
}

interface Planned {
  uri: vscode.Uri;
  folder: vscode.WorkspaceFolder;
  rel: string;
}

function relativeTo(folder: vscode.WorkspaceFolder, uri: vscode.Uri): string {
  const root = folder.uri.path.replace(/\/+$/, '');
  return uri.path.startsWith(root + '/') ? uri.path.slice(root.length + 1) : uri.path.replace(/^\/+/, '');
}

function isUri(v: unknown): v is vscode.Uri {
  return v instanceof vscode.Uri;
}

/**
 * The files a command invocation means: the explorer passes (clicked, selected[]),
 * editor menus pass the editor's URI, the palette passes nothing (active editor).
 */
export function commandTargets(first: unknown, second: unknown): vscode.Uri[] {
  if (Array.isArray(second) && second.length > 0 && second.every(isUri)) return second;
  if (Array.isArray(first) && first.every(isUri)) return first;
  if (isUri(first)) return [first];
  const active = vscode.window.activeTextEditor?.document.uri;
  return active && active.scheme !== 'untitled' ? [active] : [];
}

/** .gitignore rules of one workspace folder, nested files included, each applying below its own folder. */
class GitignoreFilter {
  private constructor(private readonly rules: ReadonlyArray<[string, Ignore]>) {}

  static async load(folder: vscode.WorkspaceFolder, token: vscode.CancellationToken): Promise<GitignoreFilter> {
    const files = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/.gitignore'), WALK_EXCLUDE, 500, token);
    const rules: Array<[string, Ignore]> = [['', ignore().add(ALWAYS_IGNORED)]];
    for (const file of files) {
      try {
        const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(file));
        const dir = relativeTo(folder, file).replace(/\/?\.gitignore$/, '');
        rules.push([dir, ignore().add(text)]);
      } catch {
        // An unreadable .gitignore is treated as absent, as git does.
      }
    }
    return new GitignoreFilter(rules);
  }

  ignores(rel: string): boolean {
    for (const [dir, ig] of this.rules) {
      if (dir === '') {
        if (ig.ignores(rel)) return true;
      } else if (rel.startsWith(dir + '/') && ig.ignores(rel.slice(dir.length + 1))) {
        return true;
      }
    }
    return false;
  }
}

const alwaysIgnored = ignore().add(ALWAYS_IGNORED);

async function plan(
  targets: vscode.Uri[],
  token: vscode.CancellationToken,
  refused: FileOutcome[],
): Promise<{ planned: Planned[]; ignoredCount: number }> {
  const seen = new Set<string>();
  const planned: Planned[] = [];
  const filters = new Map<string, GitignoreFilter>();
  let ignoredCount = 0;
  const add = (uri: vscode.Uri, folder: vscode.WorkspaceFolder) => {
    if (seen.has(uri.toString())) return;
    seen.add(uri.toString());
    planned.push({ uri, folder, rel: relativeTo(folder, uri) });
  };
  for (const uri of targets) {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) {
      refused.push({ path: uri.fsPath || uri.toString(), status: 'refused', chunks: 0, category: null, reason: 'not inside an open workspace folder; add its folder to the workspace to index it' });
      continue;
    }
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch (err) {
      refused.push({ path: relativeTo(folder, uri), status: 'refused', chunks: 0, category: null, reason: `cannot read it: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if ((stat.type & vscode.FileType.Directory) === 0) {
      // A file picked by hand is indexed even if .gitignore lists it: that choice was explicit.
      add(uri, folder);
      continue;
    }
    let filter = filters.get(folder.uri.toString());
    if (!filter) {
      filter = await GitignoreFilter.load(folder, token);
      filters.set(folder.uri.toString(), filter);
    }
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(uri, '**/*'), WALK_EXCLUDE, MAX_FILES + 1, token);
    found.sort((a, b) => a.path.localeCompare(b.path));
    for (const file of found) {
      if (filter.ignores(relativeTo(folder, file))) ignoredCount++;
      else add(file, folder);
    }
  }
  return { planned, ignoredCount };
}

/** Reads a file and applies shared/file-rules.ts; a string is the reason it must not be uploaded. */
async function readForUpload(p: Planned): Promise<{ content: string } | { refusal: string }> {
  if (alwaysIgnored.ignores(p.rel)) return { refusal: `always skipped (${ALWAYS_IGNORED.join(', ')})` };
  const byName = secretNameReason(p.rel);
  if (byName) return { refusal: `${byName}; it is never uploaded` };
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === p.uri.toString());
  let content: string;
  if (open?.isDirty) {
    // What the developer sees, not the stale copy on disk.
    content = open.getText();
  } else {
    const stat = await vscode.workspace.fs.stat(p.uri);
    const tooBig = oversizeReason(stat.size, DEFAULT_MAX_FILE_BYTES);
    if (tooBig) return { refusal: tooBig };
    const bytes = await vscode.workspace.fs.readFile(p.uri);
    if (looksBinary(bytes)) return { refusal: 'binary file (a NUL byte in the first 8 KiB); only text can be indexed' };
    content = new TextDecoder('utf-8').decode(bytes);
  }
  const size = new TextEncoder().encode(content).length;
  const tooBig = oversizeReason(size, DEFAULT_MAX_FILE_BYTES);
  if (tooBig) return { refusal: tooBig };
  const byContent = secretContentReason(content);
  if (byContent) return { refusal: `${byContent}; remove the secret before indexing` };
  return { content };
}

/** Failures that will hit every remaining file the same way: stop and say so once. */
function isFatal(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return ['unreachable', 'timeout', 'bad_server_url'].includes(err.code) || err.status === 401 || err.status === 403 || err.status === 429;
}

function fromResult(path: string, r: IndexFileResult | undefined): FileOutcome {
  if (!r) return { path, status: 'error', chunks: 0, category: null, reason: 'the server returned no result for this file' };
  return { path, status: r.status, chunks: r.chunks, category: r.taxonomy?.full_path ?? null, reason: r.reason ?? null };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Writes every file's outcome to the output and shows one summary toast, unless
 * `fatal` stopped the run: then the failure's own toast (with its fix and Retry)
 * is the only one (issue 14, defect 8).
 */
function report(outcomes: FileOutcome[], ignoredCount: number, deps: IndexDeps, fatal: unknown = null, retry?: () => unknown): void {
  const count = (...s: FileOutcome['status'][]) => outcomes.filter((o) => s.includes(o.status)).length;
  const indexed = outcomes.filter((o) => o.status === 'indexed');
  const chunks = indexed.reduce((n, o) => n + o.chunks, 0);
  const categories = [...new Set(indexed.map((o) => o.category).filter((c): c is string => c !== null))];
  const failed = count('failed', 'error');
  const skipped = count('skipped', 'refused');
  const cancelled = count('cancelled');

  deps.output.appendLine(`Index This File: ${outcomes.length} file(s), ${new Date().toISOString()}`);
  for (const o of outcomes) {
    const detail = o.status === 'indexed' || o.status === 'unchanged' ? `${plural(o.chunks, 'chunk')}${o.category ? `, ${o.category}` : ''}` : (o.reason ?? '');
    deps.output.appendLine(`  ${o.status.padEnd(9)} ${o.path}${detail ? `  (${detail})` : ''}`);
  }
  if (ignoredCount > 0) deps.output.appendLine(`  ${plural(ignoredCount, 'file')} left out by .gitignore`);

  let message: string;
  const single = outcomes.length === 1 ? outcomes[0] : undefined;
  if (single) {
    message =
      single.status === 'indexed' || single.status === 'unchanged'
        ? `AI Library: ${single.status} ${single.path} (${plural(single.chunks, 'chunk')}${single.category ? `, category ${single.category}` : ''}).`
        : sentence(`AI Library: ${single.status} ${single.path}: ${single.reason ?? 'no reason given'}`);
  } else {
    const parts = [`indexed ${plural(indexed.length, 'file')} (${plural(chunks, 'chunk')})`];
    if (categories.length) parts[0] += ` into ${categories.slice(0, 3).join(', ')}${categories.length > 3 ? ', …' : ''}`;
    if (count('unchanged')) parts.push(`${count('unchanged')} unchanged`);
    if (skipped) parts.push(`${skipped} skipped`);
    if (failed) parts.push(`${failed} failed`);
    if (cancelled) parts.push(`${cancelled} not sent (cancelled)`);
    if (ignoredCount) parts.push(`${ignoredCount} left out by .gitignore`);
    message = sentence(`AI Library: ${parts.join(', ')}`);
  }
  if (fatal !== null) {
    const doing = single ? `indexing ${single.path}` : `indexing ${plural(outcomes.length, 'file')} (${indexed.length} indexed before it stopped)`;
    void deps.fail(fatal, doing, retry);
    return;
  }
  const show = failed > 0 || skipped > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  // Not awaited: a command must not wait for the user to dismiss its summary.
  void show(message, 'Show Details').then((choice) => {
    if (choice) deps.output.show(true);
  });
}

/** How long VS Code keeps a progress notification at the least; the summary waits for it to go. */
const NOTIFICATION_MIN_MS = 850;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function isFolder(uri: vscode.Uri | undefined): Promise<boolean> {
  if (!uri) return false;
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}

/** Uploads files and folders; returns one outcome per file so callers (and e2e tests) can check it. */
export async function indexUris(targets: vscode.Uri[], deps: IndexDeps): Promise<FileOutcome[]> {
  if (targets.length === 0) {
    void vscode.window.showWarningMessage('AI Library: no file to index. Open a file, or right-click files or folders in the Explorer → AI Library: Index This File.');
    return [];
  }
  const outcomes: FileOutcome[] = [];
  let ignoredCount = 0;
  let fatal: unknown = null;
  let remaining: vscode.Uri[] = [];
  // One file needs no notification: the status bar says "indexing 1/1" and the result toast follows.
  // A progress notification stays at least 800 ms (VS Code's progress service), so a quick
  // single-file run would show it beside the result (issue 14, defect 8).
  const oneFile = targets.length === 1 && !(await isFolder(targets[0]));
  const started = Date.now();
  await vscode.window.withProgress(
    oneFile
      ? { location: vscode.ProgressLocation.Window, title: 'AI Library: indexing' }
      : { location: vscode.ProgressLocation.Notification, title: 'AI Library: indexing', cancellable: true },
    async (progress, token) => {
      if (!oneFile) progress.report({ message: 'listing files…' });
      const planning = await plan(targets, token, outcomes);
      ignoredCount = planning.ignoredCount;
      let planned = planning.planned;
      if (planned.length > MAX_FILES) {
        outcomes.push({ path: `${planned.length - MAX_FILES} more files`, status: 'refused', chunks: 0, category: null, reason: `more than ${MAX_FILES} files; index sub-folders one at a time` });
        planned = planned.slice(0, MAX_FILES);
      }
      if (planned.length > CONFIRM_ABOVE) {
        const go = await vscode.window.showWarningMessage(
          `AI Library: upload ${planned.length} files to ${deps.client.serverUrl}?`,
          { modal: true, detail: 'Each file is copied into the shared library and indexed. Files listed in .gitignore are already left out.' },
          'Index Them',
        );
        if (go !== 'Index Them') {
          for (const p of planned) outcomes.push({ path: p.rel, status: 'cancelled', chunks: 0, category: null, reason: 'not confirmed' });
          return;
        }
      }
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      try {
        for (const [i, p] of planned.entries()) {
          if (token.isCancellationRequested || fatal !== null) {
            outcomes.push({ path: p.rel, status: 'cancelled', chunks: 0, category: null, reason: fatal !== null ? 'stopped after an earlier failure' : 'cancelled' });
            if (fatal !== null) remaining.push(p.uri);
            continue;
          }
          progress.report({ message: `${i + 1}/${planned.length} ${p.rel}`, increment: 100 / planned.length });
          deps.setIndexing({ done: i, total: planned.length });
          try {
            const read = await readForUpload(p);
            if ('refusal' in read) {
              outcomes.push({ path: p.rel, status: 'refused', chunks: 0, category: null, reason: read.refusal });
              continue;
            }
            const res = await deps.client.index({ file_path: p.rel, content: read.content, workspace: workspaceNameOf(p.folder) }, controller.signal);
            outcomes.push(fromResult(p.rel, res.files[0]));
          } catch (err) {
            if (err instanceof ApiError && err.code === 'aborted') {
              outcomes.push({ path: p.rel, status: 'cancelled', chunks: 0, category: null, reason: 'cancelled' });
            } else if (isFatal(err)) {
              fatal = err;
              remaining = [p.uri];
              outcomes.push({ path: p.rel, status: 'error', chunks: 0, category: null, reason: describeFailure(err, { serverUrl: deps.client.serverUrl }).message });
            } else {
              outcomes.push({ path: p.rel, status: 'error', chunks: 0, category: null, reason: describeFailure(err, { serverUrl: deps.client.serverUrl }).message });
            }
          }
        }
      } finally {
        sub.dispose();
        deps.setIndexing(null);
      }
    },
  );
  if (!oneFile) await sleep(NOTIFICATION_MIN_MS - (Date.now() - started));
  const retryTargets = remaining;
  report(outcomes, ignoredCount, deps, fatal, () => indexUris(retryTargets, deps));
  deps.afterIndex();
  return outcomes;
}

/**
 * Re-index from the Library tree: a file uploaded from this workspace is
 * uploaded again (it may have changed here); anything else is re-read by the
 * server from its own library folder.
 */
export async function reindexLibraryPath(libraryPath: string, deps: IndexDeps): Promise<FileOutcome[]> {
  const local = await findLocalFile(libraryPath);
  if (local?.uploaded) return indexUris([local.uri], deps);
  let outcomes: FileOutcome[] = [];
  try {
    deps.setIndexing({ done: 0, total: 1 });
    const res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `AI Library: re-indexing ${libraryPath}` },
      () => deps.client.index({ path: libraryPath }),
    );
    outcomes = res.files.map((r) => fromResult(r.file_path, r));
  } catch (err) {
    void deps.fail(err, `re-indexing ${libraryPath}`, () => reindexLibraryPath(libraryPath, deps));
    return [];
  } finally {
    deps.setIndexing(null);
  }
  report(outcomes, 0, deps);
  deps.afterIndex();
  return outcomes;
}
