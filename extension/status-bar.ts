import * as vscode from 'vscode';
import type { HealthResponse, StatsResponse } from '../shared/api-types.js';
import type { ApiClient } from './api-client.js';
import type { ConnectionSnapshot, ConnectionState } from './connection-state.js';
import { describeFailure, sentence } from './errors.js';

export const SHOW_INDEX_STATUS = 'aiLibrary.showIndexStatus';
const SET_SERVER_TOKEN = 'aiLibrary.setServerToken';

const number = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, word: string) => `${number(n)} ${word}${n === 1 ? '' : 's'}`;

/** Text, tooltip, click and colour for one state; the text always says it is the Library (issue 14, defect 12). */
export function statusBarView(s: ConnectionSnapshot): { text: string; tooltip: string; command: string; warning: boolean } {
  const status = 'Click to show the index status.';
  switch (s.kind) {
    case 'checking':
      return { text: '$(sync~spin) Library: connecting…', tooltip: `AI Library: checking the server at ${s.serverUrl}…\n${status}`, command: SHOW_INDEX_STATUS, warning: false };
    case 'needsToken':
      return {
        text: '$(key) Library: needs token',
        tooltip: `AI Library: the server at ${s.serverUrl} refused the request: ${s.reason ?? 'it needs a server token'}.\nClick to set your server token.`,
        command: SET_SERVER_TOKEN,
        warning: true,
      };
    case 'unreachable':
      return {
        text: '$(debug-disconnect) Library: unreachable',
        tooltip: `AI Library: cannot reach the server.\n${sentence(s.reason ?? `Not reachable at ${s.serverUrl}`)}\nChecked again every few seconds; start the server with "npm start" or set aiLibrary.serverUrl.\n${status}`,
        command: SHOW_INDEX_STATUS,
        warning: true,
      };
    case 'serverError':
      return {
        text: '$(error) Library: server error',
        tooltip: `AI Library: the server at ${s.serverUrl} reported an error: ${s.reason ?? 'unknown'}.\n${status}`,
        command: SHOW_INDEX_STATUS,
        warning: true,
      };
    case 'indexing': {
      const ix = s.indexing;
      const count = ix ? `${ix.done}/${ix.total}` : '';
      const who = ix?.local ? `Uploading files from this window to ${s.serverUrl}` : `The server at ${s.serverUrl} is indexing`;
      return {
        text: `$(sync~spin) Library: indexing ${count}`.trimEnd(),
        tooltip: `AI Library: ${who}${ix?.current ? ` (${ix.current})` : ''}; ${count} files done.\n${status}`,
        command: SHOW_INDEX_STATUS,
        warning: false,
      };
    }
    case 'connected': {
      const chunks = s.chunks === null ? 'connected' : plural(s.chunks, 'chunk');
      const lines = [
        `AI Library: connected to ${s.serverUrl}${s.version ? ` (version ${s.version}${s.storeKind ? `, ${s.storeKind} store` : ''})` : ''}.`,
        s.chunks === null ? null : `${plural(s.chunks, 'chunk')}${s.documents === null ? '' : ` from ${plural(s.documents, 'document')}`} in the library.`,
        s.degraded ? `Degraded: ${s.degraded}.` : null,
        status,
      ];
      return {
        text: `${s.degraded ? '$(warning)' : '$(library)'} Library: ${chunks}`,
        tooltip: lines.filter((l): l is string => l !== null).join('\n'),
        command: SHOW_INDEX_STATUS,
        warning: s.degraded !== null,
      };
    }
  }
}

/** The single status-bar item: it shows the shared connection state (extension/connection-state.ts). */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('aiLibrary.status', vscode.StatusBarAlignment.Left, 50);
  private readonly sub: { dispose(): void };

  constructor(state: ConnectionState) {
    this.item.name = 'AI Library';
    this.render(state.current);
    this.sub = state.onDidChange((s) => this.render(s));
    this.item.show();
  }

  private render(s: ConnectionSnapshot): void {
    const view = statusBarView(s);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.accessibilityInformation = { label: `${view.text.replace(/\$\([^)]*\)\s*/g, '')}. ${view.tooltip}`, role: 'button' };
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}

function formatStatus(url: string, health: HealthResponse | null, stats: StatsResponse | null): string[] {
  const lines = [`AI Library index status (${new Date().toISOString()})`, `  server:        ${url}`];
  if (health) {
    const ix = health.indexing;
    lines.push(
      `  status:        ${health.status} (version ${health.version})`,
      `  store:         ${health.store.kind}, ${number(health.store.points)} points`,
      `  embedder:      ${health.embedder.id}`,
      `  indexing:      ${ix.state}${ix.state === 'running' ? ` ${ix.files_done}/${ix.files_total}${ix.current ? ` (${ix.current})` : ''}` : ''}`,
    );
    if (ix.error) lines.push(`  last error:    ${ix.error}`);
    if (ix.summary) {
      const s = ix.summary;
      lines.push(`  last run:      ${s.indexed} indexed, ${s.unchanged} unchanged, ${s.skipped} skipped, ${s.failed} failed, ${s.deleted} deleted, ${s.chunks} chunks in ${s.seconds.toFixed(1)} s`);
    }
  }
  if (stats) {
    lines.push(
      `  documents:     ${number(stats.documents)} (${number(stats.points_count)} chunks)`,
      `  embedder dim:  ${stats.embedder.dimension}`,
      `  last indexed:  ${stats.last_indexed_at ?? 'never'}`,
    );
    const types = Object.entries(stats.by_content_type).map(([k, v]) => `${k} ${v}`);
    if (types.length) lines.push(`  by type:       ${types.join(', ')}`);
    const cats = Object.entries(stats.by_taxonomy).sort((a, b) => b[1] - a[1]);
    if (cats.length) {
      lines.push('  by category:');
      for (const [k, v] of cats) lines.push(`    ${String(v).padStart(6)}  ${k}`);
    }
  }
  return lines;
}

/** "Show Index Status": /health and /api/library/stats in the output channel; a failure comes with its fix. */
export async function showIndexStatus(client: ApiClient, output: vscode.OutputChannel, onFailure: (err: unknown) => Promise<void>): Promise<void> {
  const [health, stats] = await Promise.allSettled([client.health(), client.stats()]);
  if (health.status === 'rejected' && stats.status === 'rejected') {
    await onFailure(health.reason);
    return;
  }
  const lines = formatStatus(client.serverUrl, health.status === 'fulfilled' ? health.value : null, stats.status === 'fulfilled' ? stats.value : null);
  if (health.status === 'rejected') lines.push(`  /health failed: ${describeFailure(health.reason, { serverUrl: client.serverUrl }).message}`);
  if (stats.status === 'rejected') lines.push(`  /api/library/stats failed: ${describeFailure(stats.reason, { serverUrl: client.serverUrl }).message}`);
  for (const line of lines) output.appendLine(line);
  output.show(true);
}
