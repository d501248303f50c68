import * as vscode from 'vscode';
import { localCandidates, type FolderRef } from './library-paths.js';
import { libraryDocumentUri } from './library-document-provider.js';
import { workspaceNameOf } from './settings.js';

export interface LocalMatch {
  uri: vscode.Uri;
  /** The library copy was uploaded from this file, so re-indexing should re-upload it. */
  uploaded: boolean;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    return (stat.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

/** The workspace file a library path came from, when the workspace has it. */
export async function findLocalFile(libraryPath: string): Promise<LocalMatch | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const refs: FolderRef[] = folders.map((f) => ({ index: f.index, workspace: workspaceNameOf(f) }));
  for (const candidate of localCandidates(libraryPath, refs)) {
    const folder = folders[candidate.folderIndex];
    if (!folder) continue;
    const uri = vscode.Uri.joinPath(folder.uri, ...candidate.relPath.split('/'));
    if (await exists(uri)) return { uri, uploaded: candidate.uploaded };
  }
  return undefined;
}

/** The local file if there is one, else the read-only library copy. */
export async function sourceUri(libraryPath: string): Promise<vscode.Uri> {
  return (await findLocalFile(libraryPath))?.uri ?? libraryDocumentUri(libraryPath);
}

export function lineRange(startLine: number, endLine: number): vscode.Range {
  // Server lines are 1-based; 0 means "unknown", which opens at the top.
  const start = Math.max(0, startLine - 1);
  const end = Math.max(start, endLine - 1);
  return new vscode.Range(start, 0, end, Number.MAX_SAFE_INTEGER);
}

export interface OpenOptions {
  viewColumn?: vscode.ViewColumn;
  preview?: boolean;
  preserveFocus?: boolean;
}

/** Opens a cited passage at its lines, revealed in the middle of the editor. */
export async function openSource(libraryPath: string, startLine: number, endLine: number, options: OpenOptions = {}): Promise<vscode.TextEditor> {
  const uri = await sourceUri(libraryPath);
  const doc = await vscode.workspace.openTextDocument(uri);
  const last = Math.max(0, doc.lineCount - 1);
  const range = doc.validateRange(lineRange(Math.min(startLine, last + 1), Math.min(endLine, last + 1)));
  const editor = await vscode.window.showTextDocument(doc, { ...options, selection: new vscode.Selection(range.start, range.end) });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}
