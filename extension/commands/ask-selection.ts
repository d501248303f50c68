import * as vscode from 'vscode';

export const ASK_SELECTION = 'aiLibrary.askSelection';

/** AskRequest.question limit on the server. */
export const MAX_QUESTION_CHARS = 4000;
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
  const room = MAX_QUESTION_CHARS - frame - 40;
  const body = code.length <= room ? code : `${code.slice(0, Math.max(0, room))}\n… (selection cut to fit)`;
  return `${head}${fence}${language}\n${body}\n${fence}`;
}

/**
 * Ask About Selection: asks for the question (or takes it as an argument, which
 * keybindings and tests use) and sends it with the selection to the chat.
 */
export async function askAboutSelection(ask: (question: string) => Promise<void>, questionArg: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const code = editor?.document.getText(editor.selection) ?? '';
  if (!editor || code.trim() === '') {
    void vscode.window.showWarningMessage('AI Library: select some code or text first, then run "AI Library: Ask About Selection".');
    return;
  }
  let question = typeof questionArg === 'string' ? questionArg : undefined;
  if (question === undefined) {
    question = await vscode.window.showInputBox({
      title: 'AI Library: Ask About Selection',
      prompt: 'Your question; the selection is attached as a code block',
      placeHolder: DEFAULT_QUESTION,
      ignoreFocusOut: true,
    });
    if (question === undefined) return;
  }
  const { start, end } = editor.selection;
  const rel = vscode.workspace.asRelativePath(editor.document.uri, false);
  const where = `\`${rel}\` lines ${start.line + 1}-${end.line + 1}`;
  await ask(composeQuestion(question.trim() || DEFAULT_QUESTION, code, where, editor.document.languageId));
}
