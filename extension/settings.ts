import * as vscode from 'vscode';
import type { ClientSettings } from './api-client.js';
import { workspaceNameFor } from './library-paths.js';

export const SECTION = 'aiLibrary';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8000';

export interface ExtensionSettings extends ClientSettings {
  resultCount: number;
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fallback;
  return Math.min(max, Math.max(min, Math.round(v)));
}

/** Read fresh on each use, so edits in Settings apply to the next request. */
export function readSettings(): ExtensionSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const url = cfg.get<string>('serverUrl');
  return {
    serverUrl: typeof url === 'string' && url.trim() !== '' ? url.trim() : DEFAULT_SERVER_URL,
    resultCount: clampInt(cfg.get('resultCount'), 1, 50, 10),
    timeoutMs: clampInt(cfg.get('requestTimeoutMs'), 1000, 600_000, 30_000),
  };
}

/** aiLibrary.workspaceName may differ per folder in a multi-root workspace. */
export function workspaceNameOf(folder: vscode.WorkspaceFolder): string {
  const configured = vscode.workspace.getConfiguration(SECTION, folder.uri).get<string>('workspaceName');
  return workspaceNameFor(folder.name, configured);
}

export function openSettings(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
}
