/**
 * Registers the team server's MCP endpoint (/mcp, README "MCP") with VS Code's
 * own MCP support, so agent mode and other chat participants get the library's
 * tools with no hand-written mcp.json. The API exists from VS Code 1.101;
 * `engines.vscode` stays ^1.90 and @types/vscode at 1.90, so the few types used
 * are declared here and the API is detected at run time.
 */
import * as vscode from 'vscode';
import { MCP_ENDPOINT } from '../shared/mcp.js';
import { SECRET_SERVER_TOKEN } from './api-client.js';

/** `contributes.mcpServerDefinitionProviders[0].id` in package.json. */
export const MCP_PROVIDER_ID = 'aiLibrary.mcpServer';
export const MCP_SERVER_LABEL = 'AI Library';

/** vscode.McpHttpServerDefinition (1.101). */
export interface McpHttpDefinition {
  label: string;
  uri: vscode.Uri;
  headers: Record<string, string>;
  version?: string;
}

type McpHttpDefinitionClass = new (label: string, uri: vscode.Uri, headers?: Record<string, string>, version?: string) => McpHttpDefinition;

/** vscode.McpServerDefinitionProvider (1.101), for HTTP definitions only. */
export interface McpDefinitionProvider {
  readonly onDidChangeMcpServerDefinitions: vscode.Event<void>;
  provideMcpServerDefinitions(token?: vscode.CancellationToken): McpHttpDefinition[];
  resolveMcpServerDefinition(server: McpHttpDefinition, token?: vscode.CancellationToken): Promise<McpHttpDefinition>;
}

type RegisterProvider = (id: string, provider: McpDefinitionProvider) => vscode.Disposable;

export interface McpRegistration {
  /** False on VS Code before 1.101 (no MCP API): nothing was registered. */
  registered: boolean;
  provider: McpDefinitionProvider;
}

function isRegisterProvider(value: unknown): value is RegisterProvider {
  return typeof value === 'function';
}

function isDefinitionClass(value: unknown): value is McpHttpDefinitionClass {
  return typeof value === 'function';
}

/** Stands in for vscode.McpHttpServerDefinition where VS Code has none, so the provider still answers (tests, old hosts). */
class PlainHttpDefinition implements McpHttpDefinition {
  constructor(
    public label: string,
    public uri: vscode.Uri,
    public headers: Record<string, string> = {},
    public version?: string,
  ) {}
}

export interface McpProviderDeps {
  serverUrl: () => string;
  token: () => Thenable<string | undefined>;
}

/**
 * One HTTP server definition at <aiLibrary.serverUrl>/mcp. The token is added
 * only in `resolveMcpServerDefinition`, which VS Code calls right before it
 * connects, so the definition list VS Code caches never holds the secret and a
 * changed token applies to the next connection.
 */
export function createMcpProvider(deps: McpProviderDeps, onDidChange: vscode.Event<void>): McpDefinitionProvider {
  const found: unknown = Reflect.get(vscode, 'McpHttpServerDefinition');
  const Definition: McpHttpDefinitionClass = isDefinitionClass(found) ? found : PlainHttpDefinition;
  return {
    onDidChangeMcpServerDefinitions: onDidChange,
    provideMcpServerDefinitions: () => [new Definition(MCP_SERVER_LABEL, vscode.Uri.parse(`${deps.serverUrl().replace(/\/+$/, '')}${MCP_ENDPOINT}`))],
    resolveMcpServerDefinition: async (server) => {
      const token = (await deps.token())?.trim();
      const { Authorization: _previous, ...others } = server.headers;
      server.headers = token ? { ...others, Authorization: `Bearer ${token}` } : others;
      return server;
    },
  };
}

/** Registers the provider when VS Code has MCP support, and re-announces the definition when the URL or the token changes. */
export function registerMcpServer(context: vscode.ExtensionContext, serverUrl: () => string, settingsSection: string): McpRegistration {
  const changed = new vscode.EventEmitter<void>();
  const provider = createMcpProvider({ serverUrl, token: () => context.secrets.get(SECRET_SERVER_TOKEN) }, changed.event);
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${settingsSection}.serverUrl`)) changed.fire();
    }),
    context.secrets.onDidChange((e) => {
      if (e.key === SECRET_SERVER_TOKEN) changed.fire();
    }),
  );
  const register: unknown = Reflect.get(vscode.lm, 'registerMcpServerDefinitionProvider');
  if (!isRegisterProvider(register)) return { registered: false, provider };
  context.subscriptions.push(register.call(vscode.lm, MCP_PROVIDER_ID, provider));
  return { registered: true, provider };
}
