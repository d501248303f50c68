import * as vscode from 'vscode';
import type { AskStreamEvent } from '../shared/api-types.js';
import {
  STOPPED_CODE,
  parseFromWebview,
  type ChatWelcome,
  type FailureAction,
  type FromWebview,
  type SelectionContext,
  type ToWebview,
} from '../shared/webview-protocol.js';
import { ApiError, toApiErrorCode, type ApiClient } from './api-client.js';
import { describeAnswerMode, exampleQuestions } from './chat-welcome.js';
import { describeFailure } from './errors.js';
import { composeQuestion } from './commands/ask-selection.js';
import { MAX_QUERY_CHARS } from '../shared/limits.js';
import { openSource } from './source-opener.js';
import { insertIntoEditor } from './insert-code.js';

export const CHAT_VIEW = 'aiLibrary.chat';

export const EXTRACTIVE_NOTE = 'No Anthropic API key: answers are extractive quotes.';
const EXTRACTIVE_WITH_KEY_NOTE =
  'This answer is extractive quotes although an Anthropic API key is set: the server could not use it. Check the key, or the server log.';

export interface ChatDeps {
  extensionUri: vscode.Uri;
  client: ApiClient;
  resultCount: () => number;
  hasAnthropicKey: () => Promise<boolean>;
  runAction: (action: Exclude<FailureAction, 'retry'>) => PromiseLike<unknown>;
  /** Runs a VS Code command for a `/` command typed in the chat (`/similar`, `/index`). */
  runCommand: (command: string) => PromiseLike<unknown>;
  fail: (err: unknown, doing: string) => Promise<void>;
  log: vscode.LogOutputChannel;
  /** Why the history may look empty (conversations are kept per developer, i.e. per server token); null when nothing to say. */
  historyNote?: () => Promise<string | null>;
}

/** Said in the 401 message of a question; `onServerTokenSet` keeps the promise (issue 14, defect 7). */
const ASKED_AGAIN = 'your question is asked again once it is set';

function nonce(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64');
}

let turnCounter = 0;
function newTurnId(): string {
  turnCounter += 1;
  return `t${Date.now().toString(36)}${turnCounter}`;
}

/**
 * The Chat view. The webview renders and asks; this side calls the server and
 * streams events back as ToWebview messages, one turn at a time.
 */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  /** Messages for a webview that is not listening yet (Ask About Selection before the view opened). */
  private pending: ToWebview[] = [];
  private current: { turnId: string; controller: AbortController } | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The question a missing or refused server token stopped; asked again once, when a token is saved. */
  private awaitingToken: string | null = null;
  /** The server token changed: the open conversation belongs to the previous developer, so the next question starts a new one. */
  private developerChanged = false;

  constructor(private readonly deps: ChatDeps) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webviewRoot = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot] };
    view.webview.html = this.html(view.webview, webviewRoot);
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => {
        const msg = parseFromWebview(raw);
        if (!msg) {
          this.deps.log.warn('chat: ignored a malformed message from the webview');
          return;
        }
        this.onMessage(msg).catch((err: unknown) => this.deps.log.error(`chat: ${err instanceof Error ? err.message : String(err)}`));
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
        this.stop();
      }),
    );
  }

  private html(webview: vscode.Webview, root: vscode.Uri): string {
    const n = nonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js'));
    const styles = webview.asWebviewUri(vscode.Uri.joinPath(root, 'styles.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${n}'`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styles.toString()}">
<title>AI Library Chat</title>
</head>
<body>
<main id="messages" role="log" aria-live="polite" aria-label="Conversation" aria-busy="false"></main>
<section id="history" aria-label="Saved conversations" hidden></section>
<div id="notice" role="status" hidden></div>
<div id="composer">
<div id="attachment" aria-label="Attached selection" hidden></div>
<ul id="slash-list" role="listbox" aria-label="Commands" hidden></ul>
<div class="composer-row">
<textarea id="input" rows="2" aria-label="Question" aria-controls="slash-list" aria-autocomplete="list" aria-expanded="false" placeholder="Ask the library… (/ for commands)"></textarea>
<div class="composer-actions">
<button id="send" type="button">Ask</button>
<button id="stop" type="button" class="secondary" hidden title="Stop the answer (Escape)">Stop</button>
</div>
</div>
</div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private post(message: ToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
    else this.pending.push(message);
  }

  /**
   * Opens the chat and asks there, as if typed: the webview adds its conversation id.
   * A selection goes first as the composer's chip, so the question carries it.
   */
  async askFromHost(question: string, context?: SelectionContext): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    if (context) this.post({ type: 'attachContext', context });
    this.post({ type: 'askQuestion', question });
  }

  /** Ask About Selection without a question: the selection waits as a chip while the developer types. */
  async attach(context: SelectionContext): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    this.post({ type: 'attachContext', context });
  }

  /** Server, answer mode and examples for the empty chat; a failure is said there, not as a toast. */
  private async sendWelcome(): Promise<void> {
    const [hasKey, health, taxonomy] = await Promise.all([
      this.deps.hasAnthropicKey(),
      this.deps.client.health().then(
        (h) => ({ ok: true as const, h }),
        (e: unknown) => ({ ok: false as const, error: describeFailure(e, { serverUrl: this.deps.client.serverUrl, doing: 'checking the server' }).message }),
      ),
      this.deps.client.taxonomy().catch(() => null),
    ]);
    const welcome: ChatWelcome = {
      serverUrl: this.deps.client.serverUrl,
      mode: describeAnswerMode(hasKey, health.ok ? health.h : null, health.ok ? null : health.error),
      examples: taxonomy ? exampleQuestions(taxonomy) : [],
    };
    this.post({ type: 'welcome', welcome });
  }

  /** Shows the chat with the cursor in its question box (the focus-chat keybinding). */
  async focusInput(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    this.post({ type: 'focusInput' });
  }

  async newChat(): Promise<void> {
    this.stop();
    if (!this.view) await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    this.post({ type: 'newChat' });
  }

  async showHistory(): Promise<void> {
    if (!this.view) await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    this.post({ type: 'showHistory' });
  }

  private stop(): void {
    this.current?.controller.abort();
    this.current = undefined;
  }

  private async onMessage(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready': {
        this.ready = true;
        const queued = this.pending;
        this.pending = [];
        for (const m of queued) this.post(m);
        return this.sendWelcome();
      }
      case 'ask':
        return this.ask(msg.question, msg.conversationId, msg.context ?? null, msg.replaces ?? null);
      case 'stop':
        return this.stop();
      case 'newChat':
        this.stop();
        this.post({ type: 'newChat' });
        return this.sendWelcome();
      case 'slashCommand':
        await this.deps.runCommand(msg.command === 'similar' ? 'aiLibrary.findSimilar' : 'aiLibrary.indexFile');
        return;
      case 'listHistory':
        return this.refreshHistory();
      case 'loadConversation':
        try {
          this.post({ type: 'conversationLoaded', conversation: await this.deps.client.conversation(msg.id) });
        } catch (err) {
          void this.deps.fail(err, 'opening the conversation');
        }
        return;
      case 'deleteConversation': {
        const choice = await vscode.window.showWarningMessage(`Delete the conversation "${msg.title || msg.id}" from the server?`, { modal: true }, 'Delete');
        if (choice !== 'Delete') return;
        try {
          await this.deps.client.deleteConversation(msg.id);
          this.post({ type: 'conversationDeleted', id: msg.id });
        } catch (err) {
          void this.deps.fail(err, 'deleting the conversation');
        }
        return this.refreshHistory();
      }
      case 'openSource':
        try {
          await openSource(msg.file_path, msg.start_line, msg.end_line, { preview: true });
        } catch (err) {
          void this.deps.fail(err, `opening ${msg.file_path}`);
        }
        return;
      case 'openLink':
        if (/^https?:\/\//i.test(msg.url)) await vscode.env.openExternal(vscode.Uri.parse(msg.url, true));
        return;
      case 'copyCode':
        await vscode.env.clipboard.writeText(msg.code);
        return this.post({ type: 'copyAck', ok: true, message: 'Copied to the clipboard.' });
      case 'insertCode':
        return this.post({ type: 'insertAck', ...(await insertIntoEditor(msg.code)) });
      case 'runAction':
        if (msg.action !== 'retry') await this.deps.runAction(msg.action);
        return;
    }
  }

  private async refreshHistory(): Promise<void> {
    try {
      const conversations = await this.deps.client.conversations();
      this.post({ type: 'history', conversations, error: null, note: (await this.deps.historyNote?.()) ?? null });
    } catch (err) {
      const failure = describeFailure(err, { serverUrl: this.deps.client.serverUrl, doing: 'loading saved conversations' });
      this.post({ type: 'history', conversations: [], error: failure.message });
    }
  }

  private async ask(shown: string, webviewConversationId: string | null, context: SelectionContext | null, replaces: string | null): Promise<void> {
    this.stop();
    const conversationId = this.developerChanged ? null : webviewConversationId;
    this.developerChanged = false;
    const turnId = newTurnId();
    const controller = new AbortController();
    this.current = { turnId, controller };
    this.post({ type: 'streamStart', turnId, question: shown, context, replaces });
    // The chip shows file and lines; the server gets the code itself.
    const question = context
      ? composeQuestion(shown, context.code, `\`${context.file}\` lines ${context.start_line}-${context.end_line}`, context.language)
      : shown;
    if (question.length > MAX_QUERY_CHARS) {
      this.post({
        type: 'streamError',
        turnId,
        code: 'question_too_long',
        message: `The question is ${question.length} characters; the server accepts at most ${MAX_QUERY_CHARS}. Shorten it or select less code.`,
        actions: [],
        partial: null,
      });
      this.current = undefined;
      return;
    }
    let noted = false;
    const note = async (mode: string) => {
      if (mode !== 'extractive' || noted) return;
      noted = true;
      const hasKey = await this.deps.hasAnthropicKey();
      this.post({ type: 'extractiveNote', turnId, text: hasKey ? EXTRACTIVE_WITH_KEY_NOTE : EXTRACTIVE_NOTE, action: hasKey ? 'showLog' : 'setAnthropicKey' });
    };
    try {
      const stream = this.deps.client.askStream(
        { question, n_results: this.deps.resultCount(), ...(conversationId ? { conversation_id: conversationId } : {}) },
        controller.signal,
      );
      for await (const ev of stream) await this.forward(turnId, ev, note);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'aborted') {
        this.post({ type: 'streamError', turnId, code: STOPPED_CODE, message: 'Stopped.', actions: [], partial: null });
      } else {
        const failure = describeFailure(err, { serverUrl: this.deps.client.serverUrl, doing: 'answering', afterToken: ASKED_AGAIN });
        this.deps.log.warn(failure.message);
        if (failure.actions.includes('setServerToken')) this.awaitingToken = question;
        this.post({ type: 'streamError', turnId, code: failure.code, message: failure.message, actions: failure.actions, partial: null });
      }
    } finally {
      if (this.current?.turnId === turnId) this.current = undefined;
    }
  }

  private async forward(turnId: string, ev: AskStreamEvent, note: (mode: string) => Promise<void>): Promise<void> {
    switch (ev.event) {
      case 'sources':
        this.post({ type: 'sources', turnId, sources: ev.data.sources, conversationId: ev.data.conversation_id, mode: ev.data.mode });
        await note(ev.data.mode);
        return;
      case 'delta':
        this.post({ type: 'streamDelta', turnId, text: ev.data.text });
        return;
      case 'done':
        await note(ev.data.mode);
        this.post({ type: 'streamDone', turnId, response: ev.data });
        return;
      case 'error': {
        const failure = describeFailure(new ApiError(502, toApiErrorCode(ev.data.code), ev.data.message), { serverUrl: this.deps.client.serverUrl, doing: 'answering' });
        this.deps.log.warn(`answer stream error ${ev.data.code}: ${ev.data.message}`);
        this.post({ type: 'streamError', turnId, code: ev.data.code, message: failure.message, actions: failure.actions, partial: ev.data.partial });
      }
    }
  }

  /**
   * The server token changed. Conversations are kept per developer (per token), so
   * the open one is not this developer's: the next question starts a new one. When
   * a token was saved, the question a 401 stopped runs again, once.
   */
  async onServerTokenChanged(tokenSet: boolean): Promise<void> {
    this.developerChanged = true;
    if (!tokenSet) return;
    const question = this.awaitingToken;
    this.awaitingToken = null;
    if (question !== null) await this.askFromHost(question);
  }

  dispose(): void {
    this.stop();
    for (const d of this.disposables) d.dispose();
  }
}
