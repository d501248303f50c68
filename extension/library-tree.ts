import * as vscode from 'vscode';
import type { DocumentSummary, TaxonomyTreeNode } from '../shared/api-types.js';
import { ApiError, type ApiClient } from './api-client.js';
import type { ConnectionKind, ConnectionState } from './connection-state.js';
import { describeFailure } from './errors.js';

export const LIBRARY_VIEW = 'aiLibrary.library';
export const OPEN_DOCUMENT = 'aiLibrary.openDocument';
/** Drives the viewsWelcome content in package.json. */
export const SERVER_STATE_KEY = 'aiLibrary.serverState';
export type ServerState = 'loading' | 'ok' | 'empty' | 'unreachable' | 'unauthorized' | 'error';

export type LibraryNode =
  | { kind: 'category'; node: TaxonomyTreeNode }
  | { kind: 'document'; doc: DocumentSummary; category: string };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The taxonomy lists every category; ones with nothing filed under them are noise in the tree. */
function nonEmpty(node: TaxonomyTreeNode): boolean {
  return node.document_count > 0 || node.documents.length > 0 || node.children.some(nonEmpty);
}

function documentIcon(doc: DocumentSummary): vscode.ThemeIcon {
  if (doc.content_type === 'markdown') return new vscode.ThemeIcon('markdown');
  if (doc.content_type === 'code') return new vscode.ThemeIcon('file-code');
  return new vscode.ThemeIcon('file-text');
}

/** Whether the tree can load in this state; needs-token, unreachable and server error each show their welcome text. */
function usable(kind: ConnectionKind): ConnectionKind | 'ok' {
  return kind === 'connected' || kind === 'indexing' ? 'ok' : kind;
}

/** The taxonomy as a tree: categories → subcategories → documents. */
export class LibraryTreeProvider implements vscode.TreeDataProvider<LibraryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LibraryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private lastError: string | null = null;
  private readonly sub: { dispose(): void };

  constructor(
    private readonly client: ApiClient,
    private readonly log: (message: string) => void,
    connection: ConnectionState,
  ) {
    void this.setState('loading');
    // The tree follows the shared connection state: when the server comes back (or the token
    // is accepted), it reloads by itself instead of saying "not reachable" until Retry.
    let shown = usable(connection.current.kind);
    this.sub = connection.onDidChange((s) => {
      if (s.kind === 'checking' || usable(s.kind) === shown) return;
      shown = usable(s.kind);
      this.refresh();
    });
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  get error(): string | null {
    return this.lastError;
  }

  private setState(state: ServerState): Thenable<unknown> {
    return vscode.commands.executeCommand('setContext', SERVER_STATE_KEY, state);
  }

  getTreeItem(n: LibraryNode): vscode.TreeItem {
    if (n.kind === 'category') {
      const hasChildren = n.node.children.some(nonEmpty) || n.node.documents.length > 0;
      const item = new vscode.TreeItem(n.node.name, hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `category:${n.node.full_path}`;
      item.description = plural(n.node.document_count, 'document');
      item.tooltip = new vscode.MarkdownString().appendText(`${n.node.full_path}\n\n${n.node.description}`);
      item.iconPath = new vscode.ThemeIcon(n.node.children.length > 0 ? 'folder-library' : 'folder');
      item.contextValue = 'aiLibrary.category';
      return item;
    }
    const { doc } = n;
    const item = new vscode.TreeItem(doc.title || doc.file_path, vscode.TreeItemCollapsibleState.None);
    item.id = `document:${n.category}:${doc.file_path}`;
    item.description = `${doc.file_path} · ${plural(doc.chunks, 'chunk')}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown('**').appendText(doc.title || doc.file_path).appendMarkdown('**\n\n');
    tip.appendText(`${doc.file_path}\n${plural(doc.chunks, 'chunk')} · ${doc.content_type} · confidence ${doc.confidence.toFixed(2)}\n`);
    tip.appendText(`indexed ${doc.indexed_at}${doc.contributor ? ` by ${doc.contributor}` : ''}`);
    item.tooltip = tip;
    item.iconPath = documentIcon(doc);
    item.contextValue = 'aiLibrary.document';
    item.command = { command: OPEN_DOCUMENT, title: 'Open', arguments: [n] };
    return item;
  }

  async getChildren(n?: LibraryNode): Promise<LibraryNode[]> {
    if (n?.kind === 'document') return [];
    if (n?.kind === 'category') {
      const children: LibraryNode[] = n.node.children.filter(nonEmpty).map((node) => ({ kind: 'category', node }));
      for (const doc of n.node.documents) children.push({ kind: 'document', doc, category: n.node.full_path });
      return children;
    }
    try {
      const taxonomy = await this.client.taxonomy();
      this.lastError = null;
      const roots = taxonomy.categories.filter(nonEmpty);
      await this.setState(roots.length === 0 ? 'empty' : 'ok');
      return roots.map((node) => ({ kind: 'category', node }));
    } catch (err) {
      // An empty tree lets viewsWelcome say what to do; the log keeps the reason.
      this.lastError = describeFailure(err, { serverUrl: this.client.serverUrl, doing: 'loading the library tree' }).message;
      this.log(this.lastError);
      let state: ServerState = 'error';
      if (err instanceof ApiError) {
        if (err.code === 'unreachable' || err.code === 'timeout' || err.code === 'bad_server_url') state = 'unreachable';
        else if (err.status === 401 || err.status === 403) state = 'unauthorized';
      }
      await this.setState(state);
      return [];
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
