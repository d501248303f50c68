/**
 * The messages between the chat webview and the extension host. Both sides
 * import these unions, so a renamed field breaks the build instead of the chat.
 * The host owns every server call; the webview only renders and asks.
 */
import type { AnswerMode, AnswerSource, AskResponse, Conversation, ConversationSummary } from './api-types.js';
import { isRecord } from './guards.js';

/** What a failure offers to do about it; the webview shows each as a button. */
export const FAILURE_ACTIONS = ['openSettings', 'retry', 'setServerToken', 'setAnthropicKey', 'showLog', 'showIndexStatus'] as const;
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

export const FAILURE_ACTION_LABELS: Readonly<Record<FailureAction, string>> = {
  openSettings: 'Open Settings',
  retry: 'Retry',
  setServerToken: 'Set Server Token',
  setAnthropicKey: 'Set Anthropic API Key',
  showLog: 'Show Log',
  showIndexStatus: 'Show Index Status',
};

/** A stream the reader stopped is reported as an error with this code, so the partial answer stays. */
export const STOPPED_CODE = 'stopped';

/**
 * A selection attached to a question (Ask About Selection): the chat shows it as
 * a removable chip (file, lines); the host sends the code to the server.
 */
export interface SelectionContext {
  /** Workspace-relative path, as the developer knows the file. */
  file: string;
  start_line: number;
  end_line: number;
  language: string;
  code: string;
}

/** How questions get answered, for the chat's welcome (issue 14: say the server, the mode and why). */
export type AnswerModeInfo =
  | { kind: 'claude'; key: 'developer' | 'server' }
  | { kind: 'extractive'; reason: string }
  | { kind: 'unknown'; reason: string };

export interface ChatWelcome {
  serverUrl: string;
  mode: AnswerModeInfo;
  /** Questions drawn from the library's own taxonomy; empty when it could not be read. */
  examples: string[];
}

/** `/` commands the chat input completes; `new` and `history` stay in the webview, the rest run VS Code commands. */
export const SLASH_COMMANDS = ['new', 'history', 'similar', 'index'] as const;
export type SlashCommand = (typeof SLASH_COMMANDS)[number];
export const SLASH_COMMAND_HELP: Readonly<Record<SlashCommand, string>> = {
  new: 'Start a new conversation',
  history: 'Show saved conversations',
  similar: 'Find passages similar to the editor selection',
  index: 'Index the file in the active editor',
};

export function isSlashCommand(v: unknown): v is SlashCommand {
  return typeof v === 'string' && (SLASH_COMMANDS as readonly string[]).includes(v);
}

/** Extension host → webview. */
export type ToWebview =
  /** `replaces`: a regenerated turn takes the place of this one; `context`: the selection the question was asked about. */
  | { type: 'streamStart'; turnId: string; question: string; context?: SelectionContext | null; replaces?: string | null }
  | { type: 'sources'; turnId: string; sources: AnswerSource[]; conversationId: string; mode: AnswerMode }
  | { type: 'streamDelta'; turnId: string; text: string }
  | { type: 'streamDone'; turnId: string; response: AskResponse }
  | {
      type: 'streamError';
      turnId: string;
      code: string;
      message: string;
      actions: FailureAction[];
      partial: AskResponse | null;
    }
  /** `action`: what would let Claude answer (e.g. set a key), shown as a button beside the note. */
  | { type: 'extractiveNote'; turnId: string; text: string; action?: FailureAction }
  /** `note` says why the list may be shorter than expected (conversations are kept per developer). */
  | { type: 'history'; conversations: ConversationSummary[]; error: string | null; note?: string | null }
  | { type: 'conversationLoaded'; conversation: Conversation }
  | { type: 'conversationDeleted'; id: string }
  | { type: 'newChat' }
  | { type: 'showHistory' }
  /** Asked from outside the webview (Ask About Selection); the webview sends it back as `ask` with its conversation. */
  | { type: 'askQuestion'; question: string }
  | { type: 'insertAck'; ok: boolean; message: string }
  | { type: 'copyAck'; ok: boolean; message: string }
  | { type: 'welcome'; welcome: ChatWelcome }
  /** Ask About Selection without a question: the selection waits as a chip while the developer types. */
  | { type: 'attachContext'; context: SelectionContext }
  /** "AI Library: Focus Chat" (Ctrl+Alt+L): the cursor goes into the question box. */
  | { type: 'focusInput' };

/** Webview → extension host. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'ask'; question: string; conversationId: string | null; context?: SelectionContext | null; replaces?: string | null }
  | { type: 'stop' }
  | { type: 'newChat' }
  | { type: 'listHistory' }
  | { type: 'loadConversation'; id: string }
  | { type: 'deleteConversation'; id: string; title: string }
  | { type: 'openSource'; file_path: string; start_line: number; end_line: number }
  | { type: 'openLink'; url: string }
  | { type: 'copyCode'; code: string }
  | { type: 'insertCode'; code: string }
  | { type: 'runAction'; action: FailureAction }
  | { type: 'slashCommand'; command: Extract<SlashCommand, 'similar' | 'index'> };

function isLine(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

export function isFailureAction(v: unknown): v is FailureAction {
  return typeof v === 'string' && (FAILURE_ACTIONS as readonly string[]).includes(v);
}

const TO_WEBVIEW_TYPES: ReadonlySet<string> = new Set([
  'streamStart', 'sources', 'streamDelta', 'streamDone', 'streamError', 'extractiveNote', 'history',
  'conversationLoaded', 'conversationDeleted', 'newChat', 'showHistory', 'askQuestion', 'insertAck', 'copyAck',
  'welcome', 'attachContext', 'focusInput',
]);

export function isSelectionContext(v: unknown): v is SelectionContext {
  return (
    isRecord(v) &&
    typeof v.file === 'string' &&
    isLine(v.start_line) &&
    isLine(v.end_line) &&
    typeof v.language === 'string' &&
    typeof v.code === 'string'
  );
}

/**
 * A light check of a message arriving in the webview: only the extension host
 * posts to it, so this guards against version skew, not against an attacker.
 */
export function isToWebview(v: unknown): v is ToWebview {
  if (!isRecord(v) || typeof v.type !== 'string' || !TO_WEBVIEW_TYPES.has(v.type)) return false;
  switch (v.type) {
    case 'streamStart':
      return typeof v.turnId === 'string' && typeof v.question === 'string';
    case 'sources':
      return typeof v.turnId === 'string' && Array.isArray(v.sources) && typeof v.conversationId === 'string';
    case 'streamDelta':
      return typeof v.turnId === 'string' && typeof v.text === 'string';
    case 'streamDone':
      return typeof v.turnId === 'string' && isRecord(v.response) && typeof v.response.answer === 'string' && Array.isArray(v.response.sources);
    case 'streamError':
      return typeof v.turnId === 'string' && typeof v.message === 'string' && typeof v.code === 'string' && Array.isArray(v.actions);
    case 'extractiveNote':
      return typeof v.turnId === 'string' && typeof v.text === 'string';
    case 'history':
      return Array.isArray(v.conversations);
    case 'conversationLoaded':
      return isRecord(v.conversation) && Array.isArray(v.conversation.history);
    case 'conversationDeleted':
      return typeof v.id === 'string';
    case 'askQuestion':
      return typeof v.question === 'string';
    case 'insertAck':
    case 'copyAck':
      return typeof v.ok === 'boolean' && typeof v.message === 'string';
    case 'welcome':
      return isRecord(v.welcome) && typeof v.welcome.serverUrl === 'string' && isRecord(v.welcome.mode) && Array.isArray(v.welcome.examples);
    case 'attachContext':
      return isSelectionContext(v.context);
    default:
      return true;
  }
}

/**
 * Checks a message from the webview before the host acts on it: the webview
 * renders library content, so its messages are treated as untrusted input.
 */
export function parseFromWebview(v: unknown): FromWebview | null {
  if (!isRecord(v) || typeof v.type !== 'string') return null;
  switch (v.type) {
    case 'ready':
    case 'stop':
    case 'newChat':
    case 'listHistory':
      return { type: v.type };
    case 'ask': {
      if (typeof v.question !== 'string') return null;
      if (v.conversationId !== null && typeof v.conversationId !== 'string') return null;
      const context = v.context === undefined || v.context === null ? null : isSelectionContext(v.context) ? v.context : undefined;
      if (context === undefined) return null;
      const replaces = typeof v.replaces === 'string' ? v.replaces : null;
      return { type: 'ask', question: v.question, conversationId: v.conversationId, context, replaces };
    }
    case 'loadConversation':
      return typeof v.id === 'string' ? { type: 'loadConversation', id: v.id } : null;
    case 'deleteConversation':
      return typeof v.id === 'string' && typeof v.title === 'string' ? { type: 'deleteConversation', id: v.id, title: v.title } : null;
    case 'openSource':
      if (typeof v.file_path !== 'string' || !isLine(v.start_line) || !isLine(v.end_line)) return null;
      return { type: 'openSource', file_path: v.file_path, start_line: v.start_line, end_line: v.end_line };
    case 'openLink':
      return typeof v.url === 'string' ? { type: 'openLink', url: v.url } : null;
    case 'copyCode':
    case 'insertCode':
      return typeof v.code === 'string' ? { type: v.type, code: v.code } : null;
    case 'runAction':
      return isFailureAction(v.action) ? { type: 'runAction', action: v.action } : null;
    case 'slashCommand':
      return v.command === 'similar' || v.command === 'index' ? { type: 'slashCommand', command: v.command } : null;
    default:
      return null;
  }
}
