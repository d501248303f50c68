import * as vscode from 'vscode';
import { MAX_QUERY_CHARS } from '../../shared/limits.js';
import type { SelectionContext } from '../../shared/webview-protocol.js';

export const ASK_SELECTION = 'aiLibrary.askSelection';

const DEFAULT_QUESTION = 'What does this code do, and what does the library say about it?';

/** A fence longer than any backtick run inside, so the code cannot close it early. */
function fenceFor(code: string): string {
  const longest = Math.max(0, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** The question followed by the selection as a quoted code block, cut to fit the server's limit. */
export function composeQuestion(question: string, code: string, where: string, language: string): string {
  const head = `${question.trim()}\n\nFrom ${where}:\n\n`;
  const fence = fenceFor(code);
  const frame = `${fence}${language}\n\n${fence}`.length + head.length;
  const room = MAX_QUERY_CHARS - frame - 40;
  const body = code.length <= room ? code : `${code.slice(0, Math.max(0, room))}\n… (selection cut to fit)`;
  return `${head}${fence}${language}\n${body}\n${fence}`;
}

/** The editor's selection as the chat's context chip: file and lines shown, the code sent to the server. */
export function selectionContext(editor: vscode.TextEditor): SelectionContext | undefined {
  const code = editor.document.getText(editor.selection);
  if (code.trim() === '') return undefined;
  const { start, end } = editor.selection;
  // A selection ending at column 0 of a line does not include that line.
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return {
    file: vscode.workspace.asRelativePath(editor.document.uri, false),
    start_line: start.line + 1,
    end_line: last + 1,
    language: editor.document.languageId,
    code,
  };
}

export interface SelectionChat {
  /** Asks at once, with the selection attached. */
  ask(question: string, context: SelectionContext): Promise<void>;
  /** Attaches the selection as a chip in the chat's input and waits for the developer's question. */
  attach(context: SelectionContext): Promise<void>;
}

/**
 * Ask About Selection: the selection becomes a removable chip (file, lines) in
 * the chat's input, where the developer types the question. Keybindings and
 * tests may pass the question as an argument; it is then asked at once.
 */
export async function askAboutSelection(chat: SelectionChat, questionArg: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const context = editor ? selectionContext(editor) : undefined;
  if (!context) {
    void vscode.window.showWarningMessage('AI Library: select some code or text first, then run "AI Library: Ask About Selection".');
    return;
  }
  if (typeof questionArg === 'string') {
    await chat.ask(questionArg.trim() || DEFAULT_QUESTION, context);
    return;
  }
  await chat.attach(context);
}
