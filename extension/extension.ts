/**
 * Entry point. `activate` only registers things and starts a background health
 * check: nothing here waits on the server, so a stopped server never breaks
 * activation; each feature reports its own failure with a fix.
 */
import * as vscode from 'vscode';
import { isRecord } from '../shared/guards.js';
import type { FailureAction } from '../shared/webview-protocol.js';
import { ApiClient, SECRET_ANTHROPIC_KEY, SECRET_SERVER_TOKEN, type SecretName } from './api-client.js';
import { CHAT_VIEW, ChatViewProvider } from './chat-view.js';
import { ASK_SELECTION, askAboutSelection } from './commands/ask-selection.js';
import { FIND_SIMILAR, findSimilarToSelection, showSimilar, type SimilarDeps } from './commands/find-similar.js';
import { INDEX_FILE, commandTargets, indexUris, reindexLibraryPath, type IndexDeps } from './commands/index-file.js';
import { ConnectionMonitor, ConnectionState } from './connection-state.js';
import { showFailure, type FailureUi } from './errors.js';
import { LIBRARY_SCHEME, LibraryDocumentProvider } from './library-document-provider.js';
import { LIBRARY_VIEW, LibraryTreeProvider, OPEN_DOCUMENT } from './library-tree.js';
import { registerMcpServer, type McpRegistration } from './mcp-server-provider.js';
import { SECTION, openSettings, readSettings } from './settings.js';
import { findLocalFile, openSource } from './source-opener.js';
import { SHOW_INDEX_STATUS, StatusBar, showIndexStatus } from './status-bar.js';

export const COMMANDS = {
  indexFile: INDEX_FILE,
  findSimilar: FIND_SIMILAR,
  askSelection: ASK_SELECTION,
  newChat: 'aiLibrary.newChat',
  showHistory: 'aiLibrary.showHistory',
  refreshLibrary: 'aiLibrary.refreshLibrary',
  showIndexStatus: SHOW_INDEX_STATUS,
  setServerToken: 'aiLibrary.setServerToken',
  setAnthropicApiKey: 'aiLibrary.setAnthropicApiKey',
  openDocument: OPEN_DOCUMENT,
  reindexDocument: 'aiLibrary.reindexDocument',
  findSimilarToDocument: 'aiLibrary.findSimilarToDocument',
  copyDocumentPath: 'aiLibrary.copyDocumentPath',
  focusChat: 'aiLibrary.focusChat',
} as const;

/**
 * What Copy Path puts on the clipboard: the file on this machine when the
 * workspace has it (uploaded from here, or the server's own library/ folder),
 * else the path inside the library, prefixed "library/" so it reads as one
 * (issue 14, defect 14).
 */
async function usablePath(libraryPath: string): Promise<string> {
  const local = await findLocalFile(libraryPath);
  if (local && local.uri.scheme === 'file') return local.uri.fsPath;
  return `library/${libraryPath.replace(/^\/+/, '')}`;
}

/** Tree commands get a tree node; tests and keybindings may pass the library path instead. */
function documentOf(arg: unknown): { file_path: string; title: string } | undefined {
  if (typeof arg === 'string' && arg.trim() !== '') return { file_path: arg.trim(), title: arg.trim() };
  if (!isRecord(arg) || arg.kind !== 'document' || !isRecord(arg.doc)) return undefined;
  const doc: Record<string, unknown> = arg.doc;
  if (typeof doc.file_path !== 'string') return undefined;
  return { file_path: doc.file_path, title: typeof doc.title === 'string' && doc.title ? doc.title : doc.file_path };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What `activate` returns: hooks for the extension-host tests (test/e2e), not a public API. */
export interface AiLibraryTestApi {
  libraryTree: LibraryTreeProvider;
  connection: ConnectionState;
  openSource: (filePath: string, startLine: number, endLine: number) => Promise<vscode.TextEditor>;
  /** The library's MCP server as VS Code's agent mode sees it. */
  mcp: McpRegistration;
}

export function activate(context: vscode.ExtensionContext): AiLibraryTestApi | undefined {
  const output = vscode.window.createOutputChannel('AI Library', { log: true });
  context.subscriptions.push(output);
  try {
    return wire(context, output);
  } catch (err) {
    // Activation must not throw: the views would show a generic error with no way forward.
    output.error(`activation failed: ${describeError(err)}`);
    void vscode.window.showErrorMessage(`AI Library could not start: ${describeError(err)}. The "AI Library" output has details.`, 'Show Log').then((c) => {
      if (c) output.show();
    });
    return undefined;
  }
}

function wire(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): AiLibraryTestApi {
  const connection = new ConnectionState(() => readSettings().serverUrl);
  const client = new ApiClient({
    settings: readSettings,
    secret: (name: SecretName) => context.secrets.get(name),
    observe: (outcome) => connection.observe(outcome),
  });
  const monitor = new ConnectionMonitor(client, connection);

  const runAction = (action: Exclude<FailureAction, 'retry'>): Thenable<unknown> => {
    switch (action) {
      case 'openSettings':
        return openSettings();
      case 'setServerToken':
        return vscode.commands.executeCommand(COMMANDS.setServerToken);
      case 'setAnthropicKey':
        return vscode.commands.executeCommand(COMMANDS.setAnthropicApiKey);
      case 'showIndexStatus':
        return vscode.commands.executeCommand(COMMANDS.showIndexStatus);
      case 'showLog':
        output.show();
        return Promise.resolve();
    }
  };
  const ui: FailureUi = {
    showError: (message, ...items) => vscode.window.showErrorMessage(message, ...items),
    runAction,
    log: (message) => output.warn(message),
  };
  const fail = (err: unknown, doing: string, retry?: () => unknown): Promise<void> =>
    showFailure(err, { serverUrl: client.serverUrl, doing }, ui, retry).catch((e: unknown) => output.error(describeError(e)));

  const statusBar = new StatusBar(connection);
  const documents = new LibraryDocumentProvider(client);
  const tree = new LibraryTreeProvider(client, (m) => output.warn(m), connection);
  const treeView = vscode.window.createTreeView(LIBRARY_VIEW, { treeDataProvider: tree, showCollapseAll: true });
  const chat = new ChatViewProvider({
    extensionUri: context.extensionUri,
    client,
    resultCount: () => readSettings().resultCount,
    hasAnthropicKey: async () => Boolean(await context.secrets.get(SECRET_ANTHROPIC_KEY)),
    runAction,
    runCommand: (command) => vscode.commands.executeCommand(command),
    fail: (err, doing) => fail(err, doing),
    log: output,
    historyNote: async () =>
      (await context.secrets.get(SECRET_SERVER_TOKEN))
        ? `Conversations are kept per developer: these are the ones saved under your server token on ${client.serverUrl}. Conversations asked before you set it, or under another token, are kept under that identity and are not listed here.`
        : null,
  });

  const refreshAll = () => {
    tree.refresh();
    documents.refresh();
    void monitor.check();
  };
  const indexDeps: IndexDeps = {
    client,
    output,
    setIndexing: (progress) => connection.setLocalIndexing(progress),
    afterIndex: refreshAll,
    fail,
  };
  const similarDeps: SimilarDeps = { client, resultCount: () => readSettings().resultCount, fail };

  const setSecret = async (name: SecretName, arg: unknown): Promise<void> => {
    const isToken = name === SECRET_SERVER_TOKEN;
    const label = isToken ? 'Server token' : 'Anthropic API key';
    let value = typeof arg === 'string' ? arg : undefined;
    if (value === undefined) {
      value = await vscode.window.showInputBox({
        title: isToken ? 'AI Library: Set Server Token' : 'AI Library: Set Anthropic API Key',
        prompt: isToken
          ? `The token for ${client.serverUrl} (sent as "Authorization: Bearer"). Leave empty to remove it.`
          : 'Your Anthropic Console API key, sent only to the AI Library server with each question and never stored there. Leave empty to remove it.',
        placeHolder: isToken ? 'server token' : 'sk-ant-api…',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => {
          const s = v.trim();
          if (/\s/.test(s)) return 'must not contain spaces or line breaks; paste the value alone';
          if (!isToken && s.startsWith('sk-ant-oat')) {
            return 'this is a Claude subscription (OAuth) token, which the API rejects for other tools; create a Console API key (sk-ant-api…)';
          }
          if (!isToken && s !== '' && !s.startsWith('sk-ant-')) {
            return { message: 'Anthropic Console keys start with "sk-ant-"; check that you pasted the right value', severity: vscode.InputBoxValidationSeverity.Warning };
          }
          return undefined;
        },
      });
      if (value === undefined) return;
    }
    value = value.trim();
    if (value === '') {
      await context.secrets.delete(name);
      void vscode.window.showInformationMessage(`AI Library: ${label} removed.`);
    } else {
      await context.secrets.store(name, value);
      void vscode.window.showInformationMessage(`AI Library: ${label} saved in VS Code's secret storage.`);
    }
  };

  const register = (id: string, run: (...args: unknown[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (err) {
        // Commands report their own expected failures; this is the last line against silence.
        output.error(`${id}: ${describeError(err)}`);
        void fail(err, id.replace(/^aiLibrary\./, ''));
        return undefined;
      }
    });

  context.subscriptions.push(
    monitor,
    statusBar,
    documents,
    tree,
    treeView,
    chat,
    vscode.workspace.registerTextDocumentContentProvider(LIBRARY_SCHEME, documents),
    vscode.window.registerWebviewViewProvider(CHAT_VIEW, chat, { webviewOptions: { retainContextWhenHidden: true } }),

    register(COMMANDS.indexFile, (first, second) => indexUris(commandTargets(first, second), indexDeps)),
    register(COMMANDS.findSimilar, () => findSimilarToSelection(similarDeps)),
    register(COMMANDS.askSelection, (question) =>
      askAboutSelection({ ask: (q, c) => chat.askFromHost(q, c), attach: (c) => chat.attach(c) }, question),
    ),
    register(COMMANDS.newChat, () => chat.newChat()),
    register(COMMANDS.showHistory, () => chat.showHistory()),
    register(COMMANDS.refreshLibrary, refreshAll),
    register(COMMANDS.showIndexStatus, function status(): Promise<void> {
      return showIndexStatus(client, output, (err) => fail(err, 'reading the index status', status));
    }),
    register(COMMANDS.setServerToken, (arg) => setSecret(SECRET_SERVER_TOKEN, arg)),
    register(COMMANDS.setAnthropicApiKey, (arg) => setSecret(SECRET_ANTHROPIC_KEY, arg)),

    register(COMMANDS.openDocument, async (arg) => {
      const doc = documentOf(arg);
      if (!doc) return;
      try {
        await openSource(doc.file_path, 0, 0, { preview: true });
      } catch (err) {
        void fail(err, `opening ${doc.file_path}`);
      }
    }),
    register(COMMANDS.reindexDocument, (arg) => {
      const doc = documentOf(arg);
      return doc ? reindexLibraryPath(doc.file_path, indexDeps) : undefined;
    }),
    register(COMMANDS.findSimilarToDocument, async (arg) => {
      const doc = documentOf(arg);
      if (!doc) return;
      let content: string;
      try {
        content = (await client.document(doc.file_path)).content;
      } catch (err) {
        void fail(err, `reading ${doc.file_path}`);
        return;
      }
      if (content.trim() === '') {
        void vscode.window.showWarningMessage(`AI Library: ${doc.file_path} is empty on the server; re-index it first.`);
        return;
      }
      await showSimilar(similarDeps, { text: content.slice(0, 20_000), exclude_file_path: doc.file_path }, `Similar to ${doc.title}`);
    }),
    register(COMMANDS.copyDocumentPath, async (arg) => {
      const doc = documentOf(arg);
      if (!doc) return;
      const copied = await usablePath(doc.file_path);
      await vscode.env.clipboard.writeText(copied);
      void vscode.window.showInformationMessage(`AI Library: copied ${copied} to the clipboard.`);
      return copied;
    }),
    register(COMMANDS.focusChat, () => chat.focusInput()),

    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      if (e.affectsConfiguration(`${SECTION}.serverUrl`)) connection.resetAccess();
      refreshAll();
    }),
    context.secrets.onDidChange(async (e) => {
      if (e.key !== SECRET_SERVER_TOKEN) return;
      // What the old token was allowed no longer says anything about the new one.
      connection.resetAccess();
      refreshAll();
      await chat.onServerTokenChanged(Boolean(await context.secrets.get(SECRET_SERVER_TOKEN)));
    }),
  );

  const mcp = registerMcpServer(context, () => readSettings().serverUrl, SECTION);

  void monitor.check();
  return { libraryTree: tree, connection, openSource: (filePath, startLine, endLine) => openSource(filePath, startLine, endLine), mcp };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it.
}
