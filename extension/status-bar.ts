import * as vscode from 'vscode';
import type { HealthResponse, StatsResponse } from '../shared/api.js';
import type { ApiClient } from './api-client.js';
import { describeFailure } from './errors.js';

export const SHOW_INDEX_STATUS = 'aiLibrary.showIndexStatus';

const POLL_OK_MS = 60_000;
const POLL_BUSY_MS = 3_000;
const POLL_ERROR_MS = 20_000;

const number = (n: number) => n.toLocaleString('en-US');

/**
 * The single status-bar item: connected (points), indexing (spinner) or error
 * (warning). It polls /health, faster while the server indexes.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('aiLibrary.status', vscode.StatusBarAlignment.Left, 50);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private localIndexing: string | null = null;
  private last: { health: HealthResponse } | { error: string } | null = null;
  private disposed = false;

  constructor(private readonly client: ApiClient) {
    this.item.name = 'AI Library';
    this.item.command = SHOW_INDEX_STATUS;
    this.item.text = '$(library) AI Library';
    this.item.tooltip = 'AI Library: connecting…';
    this.item.show();
  }

  /** Shows this extension's own upload progress; null when done. */
  setIndexing(label: string | null): void {
    this.localIndexing = label;
    this.render();
  }

  /** Polls now and reschedules; never throws, so activation and commands can fire and forget it. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      this.last = { health: await this.client.health() };
    } catch (err) {
      this.last = { error: describeFailure(err, { serverUrl: this.client.serverUrl }).message };
    }
    if (this.disposed) return;
    this.render();
    const busy = this.last !== null && 'health' in this.last && this.last.health.indexing.state === 'running';
    const next = busy ? POLL_BUSY_MS : this.last !== null && 'error' in this.last ? POLL_ERROR_MS : POLL_OK_MS;
    this.timer = setTimeout(() => void this.refresh(), next);
  }

  private render(): void {
    const url = this.client.serverUrl;
    this.item.backgroundColor = undefined;
    if (this.localIndexing !== null) {
      this.item.text = `$(sync~spin) AI Library: ${this.localIndexing}`;
      this.item.tooltip = `AI Library: uploading files to ${url}. Click for the index status.`;
      return;
    }
    const last = this.last;
    if (last === null) return;
    if ('error' in last) {
      this.item.text = '$(warning) AI Library';
      this.item.tooltip = `${last.error}\nClick for the index status.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    const { health } = last;
    const indexing = health.indexing;
    if (indexing.state === 'running') {
      this.item.text = `$(sync~spin) AI Library: indexing ${indexing.files_done}/${indexing.files_total}`;
      this.item.tooltip = `The server at ${url} is indexing${indexing.current ? `: ${indexing.current}` : ''}.`;
      return;
    }
    if (health.status === 'degraded') {
      this.item.text = `$(warning) AI Library: ${number(health.store.points)}`;
      this.item.tooltip = `The server at ${url} is degraded${indexing.error ? `: ${indexing.error}` : ''}. Click for details.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    this.item.text = `$(library) ${number(health.store.points)}`;
    this.item.tooltip = `AI Library: connected to ${url} (version ${health.version}), ${number(health.store.points)} points in ${health.store.kind}. Click for the index status.`;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
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
