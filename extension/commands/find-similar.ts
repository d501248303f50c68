import * as vscode from 'vscode';
import type { SearchResult, SimilarRequest } from '../../shared/api-types.js';
import { ApiError, type ApiClient } from '../api-client.js';
import { libraryPathOf } from '../library-paths.js';
import { LIBRARY_SCHEME, libraryPathOfUri } from '../library-document-provider.js';
import { workspaceNameOf } from '../settings.js';
import { openSource } from '../source-opener.js';

export const FIND_SIMILAR = 'aiLibrary.findSimilar';

/** SimilarRequest.text limit on the server. */
const MAX_SIMILAR_CHARS = 20_000;
const PREVIEW_DELAY_MS = 120;
const UI_SETTLE_MS = 1000;

export interface SimilarDeps {
  client: ApiClient;
  resultCount: () => number;
  fail: (err: unknown, doing: string, retry?: () => unknown) => Promise<void>;
}

interface SimilarItem extends vscode.QuickPickItem {
  result: SearchResult;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

/** The library path of the file in an editor, so a search does not find the selection itself. */
export function libraryPathOfDocument(uri: vscode.Uri): string | undefined {
  if (uri.scheme === LIBRARY_SCHEME) return libraryPathOfUri(uri);
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) return undefined;
  const rel = vscode.workspace.asRelativePath(uri, false).replace(/\\/g, '/');
  const path = libraryPathOf(workspaceNameOf(folder), rel);
  return path.length <= 1024 ? path : undefined;
}

/**
 * 1-based, inclusive lines of a selection; a selection ending at the start of a
 * line (a whole-line selection) does not take that line.
 */
export function selectedLines(selection: { start: { line: number }; end: { line: number; character: number } }): { start_line: number; end_line: number } {
  const lastLine = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line - 1 : selection.end.line;
  return { start_line: selection.start.line + 1, end_line: lastLine + 1 };
}

export async function findSimilarToSelection(deps: SimilarDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const text = editor?.document.getText(editor.selection) ?? '';
  if (!editor || text.trim() === '') {
    void vscode.window.showWarningMessage('AI Library: select some code or text first, then run "AI Library: Find Similar to Selection".');
    return;
  }
  const name = editor.document.uri.path.split('/').pop() ?? 'the selection';
  const filePath = libraryPathOfDocument(editor.document.uri);
  // Only the selection's own lines are left out: the rest of its file may hold the best matches.
  const request: Omit<SimilarRequest, 'n_results'> = { text: text.slice(0, MAX_SIMILAR_CHARS) };
  if (filePath !== undefined) request.exclude_range = { file_path: filePath, ...selectedLines(editor.selection) };
  await showSimilar(deps, request, `Similar to the selection in ${name}`);
}

/** Closes the preview tab of a passage (Escape on the picker); a tab the developer had pinned stays. */
async function closePreview(uri: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
  const preview = tabs.filter((t) => t.isPreview && t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri.toString());
  if (preview.length > 0) await vscode.window.tabGroups.close(preview);
}

/**
 * Results in a QuickPick; moving through them previews each passage beside the
 * editor without taking focus, Enter opens it for good.
 */
export async function showSimilar(deps: SimilarDeps, request: Omit<SimilarRequest, 'n_results'>, title: string): Promise<void> {
  const qp = vscode.window.createQuickPick<SimilarItem>();
  qp.title = `AI Library: ${title}`;
  qp.placeholder = 'Searching the library…';
  qp.busy = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  // Previews open editors; without this the picker would close on the first one.
  qp.ignoreFocusOut = true;
  const controller = new AbortController();
  let previewTimer: ReturnType<typeof setTimeout> | undefined;
  let previewColumn: vscode.ViewColumn | undefined;
  let acceptedEarly = false;
  /** The passage shown beside while moving through the list; Escape closes it again. */
  let previewed: vscode.Uri | undefined;
  let accepted = false;

  const open = async (r: SearchResult, preview: boolean) => {
    try {
      const editor = await openSource(r.file_path, r.start_line, r.end_line, {
        viewColumn: previewColumn ?? vscode.ViewColumn.Beside,
        preview,
        preserveFocus: preview,
      });
      previewColumn = editor.viewColumn;
      previewed = preview ? editor.document.uri : undefined;
    } catch (err) {
      void deps.fail(err, `opening ${r.file_path}`);
    }
  };
  qp.onDidHide(() => {
    controller.abort();
    clearTimeout(previewTimer);
    qp.dispose();
    if (!accepted && !acceptedEarly && previewed) void closePreview(previewed);
  });
  qp.onDidChangeActive((items) => {
    clearTimeout(previewTimer);
    const item = items[0];
    if (!item) return;
    // Debounced so holding an arrow key does not open every passage on the way.
    previewTimer = setTimeout(() => void open(item.result, true), PREVIEW_DELAY_MS);
  });
  qp.onDidAccept(() => {
    if (qp.items.length === 0) {
      // Enter while still searching: open the best result as soon as it arrives.
      acceptedEarly = true;
      return;
    }
    // Enter on an unfiltered list means the highlighted first row, even if its activation has not reached us yet.
    const item = qp.selectedItems[0] ?? qp.activeItems[0] ?? (qp.value === '' ? qp.items[0] : undefined);
    clearTimeout(previewTimer);
    accepted = true;
    qp.hide();
    if (item) void open(item.result, false);
  });
  qp.show();

  let results: SearchResult[];
  try {
    const res = await deps.client.similar({ ...request, n_results: deps.resultCount() }, controller.signal);
    results = res.results;
  } catch (err) {
    qp.hide();
    if (err instanceof ApiError && err.code === 'aborted') return;
    void deps.fail(err, 'finding similar passages', () => showSimilar(deps, request, title));
    return;
  }
  if (results.length === 0) {
    qp.hide();
    void vscode.window.showInformationMessage(
      'AI Library: nothing similar in the library yet. Index related files with "AI Library: Index This File", or check what is indexed with "AI Library: Show Index Status".',
    );
    return;
  }
  const first = results[0];
  if (acceptedEarly && first) {
    qp.hide();
    await open(first, false);
    return;
  }
  // Resolves once the picker reports an active item: the UI updates asynchronously,
  // and callers (tests, keybindings) expect the results on screen when the command returns.
  const shown = new Promise<void>((resolve) => {
    const timer = setTimeout(done, UI_SETTLE_MS);
    const sub = qp.onDidChangeActive(done);
    function done() {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    }
  });
  qp.items = results.map((result) => ({
    label: `${result.file_path}:${result.start_line}-${result.end_line}`,
    description: `score ${result.score.toFixed(3)}${result.section ? ` · ${result.section}` : ''}`,
    detail: firstLine(result.content),
    result,
  }));
  qp.busy = false;
  qp.placeholder = 'Arrow keys preview a passage beside the editor; Enter opens it';
  await shown;
}
