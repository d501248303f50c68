import * as vscode from 'vscode';
import { LIBRARY_SCHEME } from './library-document-provider.js';

export interface InsertResult {
  ok: boolean;
  message: string;
}

const nameOf = (doc: vscode.TextDocument) => doc.uri.path.split('/').pop() || doc.uri.toString();

/**
 * Why text cannot go into this document, or null when it can. Library copies
 * (`ailibrary:`) and other content-provider documents are read-only, and
 * VS Code's `editor.edit` resolves `true` for them while changing nothing.
 */
export function readOnlyReason(doc: vscode.TextDocument): string | null {
  if (doc.uri.scheme === LIBRARY_SCHEME) return `${nameOf(doc)} is the library's read-only copy`;
  if (doc.uri.scheme === 'untitled') return null;
  if (vscode.workspace.fs.isWritableFileSystem(doc.uri.scheme) !== true) return `${nameOf(doc)} is read-only`;
  return null;
}

/**
 * Inserts a code block from the chat at the cursor of the editor the developer
 * last used, or says why not; "Inserted" only when the document really changed
 * (issue 14, defect 5).
 */
export async function insertIntoEditor(code: string): Promise<InsertResult> {
  // The chat has focus now, so "active" is the last text editor the developer used.
  const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors.find((e) => readOnlyReason(e.document) === null);
  if (!editor) return { ok: false, message: 'No editor to insert into: open a file and place the cursor first.' };
  const readOnly = readOnlyReason(editor.document);
  if (readOnly) return { ok: false, message: `Not inserted: ${readOnly}. Open a file of your workspace, place the cursor, then Insert again.` };
  const before = editor.document.version;
  const applied = await editor.edit((edit) => {
    for (const selection of editor.selections) edit.replace(selection, code);
  });
  if (!applied || editor.document.version === before) {
    return { ok: false, message: `Not inserted: the editor of ${nameOf(editor.document)} refused the edit (is it read-only?).` };
  }
  return { ok: true, message: `Inserted into ${nameOf(editor.document)}.` };
}
