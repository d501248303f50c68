import * as vscode from 'vscode';
import type { ApiClient } from './api-client.js';
import { describeFailure } from './errors.js';

export const LIBRARY_SCHEME = 'ailibrary';

/** `ailibrary:/guides/searching.md`: the library path is the URI path, so the tab shows the file name and language. */
export function libraryDocumentUri(libraryPath: string): vscode.Uri {
  return vscode.Uri.from({ scheme: LIBRARY_SCHEME, path: '/' + libraryPath.replace(/^\/+/, '') });
}

export function libraryPathOfUri(uri: vscode.Uri): string {
  return uri.path.replace(/^\/+/, '');
}

/**
 * Read-only view of a library document the workspace does not have, fetched
 * from /api/library/documents. Content providers are read-only by design.
 */
export class LibraryDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly cache = new Map<string, string>();

  constructor(private readonly client: ApiClient) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const key = uri.toString();
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    const path = libraryPathOfUri(uri);
    try {
      const doc = await this.client.document(path, controller.signal);
      this.cache.set(key, doc.content);
      return doc.content;
    } catch (err) {
      // Thrown so the editor says "Unable to open" with this reason instead of showing an empty file.
      throw new Error(describeFailure(err, { serverUrl: this.client.serverUrl, doing: `loading ${path}` }).message);
    } finally {
      sub.dispose();
    }
  }

  /** Forgets cached text (after a re-index or a server change) and reloads open documents. */
  refresh(): void {
    const open = [...this.cache.keys()];
    this.cache.clear();
    for (const key of open) this.changed.fire(vscode.Uri.parse(key));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
