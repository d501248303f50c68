/**
 * Turns any failure into one message that says what went wrong and buttons that
 * fix it. No `vscode` import: the UI is injected, so the wording is unit-tested
 * and the chat webview can show the same actions as a notification would.
 */
import { FAILURE_ACTION_LABELS, type FailureAction } from '../shared/webview-protocol.js';
import { ApiError } from './api-client.js';
import { tokenReason } from './connection-state.js';

export interface FailureContext {
  serverUrl: string;
  /** What was being done, e.g. "indexing src/app.ts"; named in the message. */
  doing?: string;
  /** Said after a missing or refused server token, e.g. "your question is asked again once it is set". */
  afterToken?: string;
}

export interface FailureDescription {
  code: string;
  message: string;
  actions: FailureAction[];
}

/** Ends a sentence once: reasons and lists may already end in ".", "…" or "?" (no "…." or ".."). */
export function sentence(text: string): string {
  const t = text.trimEnd();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

function prefix(ctx: FailureContext): string {
  return ctx.doing ? `AI Library: ${ctx.doing} failed: ` : 'AI Library: ';
}

function mentionsAnthropic(err: ApiError): boolean {
  return /anthropic/i.test(err.code) || /anthropic/i.test(err.message);
}

export function describeFailure(err: unknown, ctx: FailureContext): FailureDescription {
  if (!(err instanceof ApiError)) {
    const detail = err instanceof Error ? err.message : String(err);
    return { code: 'internal', message: `${prefix(ctx)}${detail}. The AI Library log has details.`, actions: ['showLog'] };
  }
  const url = ctx.serverUrl.replace(/\/+$/, '');
  switch (err.code) {
    case 'unreachable':
      return {
        code: err.code,
        message: ctx.doing
          ? `${prefix(ctx)}the AI Library server is not reachable at ${url}; start it with "npm start" or set aiLibrary.serverUrl to your team's server.`
          : `AI Library server not reachable at ${url}. Start it with "npm start" or set aiLibrary.serverUrl to your team's server.`,
        actions: ['openSettings', 'retry'],
      };
    case 'timeout':
      return { code: err.code, message: `${prefix(ctx)}${err.message}. Check the server, or raise aiLibrary.requestTimeoutMs.`, actions: ['retry', 'openSettings'] };
    case 'bad_server_url':
      return { code: err.code, message: `AI Library: ${err.message}`, actions: ['openSettings'] };
    case 'aborted':
      return { code: err.code, message: `${prefix(ctx)}cancelled.`, actions: [] };
    default:
      break;
  }
  if (err.status === 401 || err.status === 403) {
    if (mentionsAnthropic(err)) {
      return {
        code: err.code,
        message: `${prefix(ctx)}the Anthropic API key was refused (${err.message}). Set a Console API key with "AI Library: Set Anthropic API Key".`,
        actions: ['setAnthropicKey'],
      };
    }
    // One sentence; the button is the only place that names "Set Server Token" (issue 14, defect 7).
    return {
      code: err.code,
      message: `${prefix(ctx)}the server at ${url} refused it: ${tokenReason(err.message)}${ctx.afterToken ? `; ${ctx.afterToken}` : ''}.`,
      actions: ['setServerToken'],
    };
  }
  if (err.status === 413) {
    return {
      code: err.code,
      message: `${prefix(ctx)}file too large for the server (${err.message}). Index a smaller file, or raise the server's limit.`,
      actions: [],
    };
  }
  if (err.status === 429) {
    const wait = err.retryAfterSeconds ?? 30;
    return { code: err.code, message: `${prefix(ctx)}rate limited, retry in ${wait} s.`, actions: ['retry'] };
  }
  if (err.status === 503) {
    return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions: ['retry', 'showIndexStatus'] };
  }
  if (err.status === 404 && err.message.startsWith('no route')) {
    return {
      code: err.code,
      message: `${prefix(ctx)}the server at ${url} does not have this endpoint (${err.message}); update the server to a matching version.`,
      actions: ['openSettings'],
    };
  }
  if (err.status === 0 || err.status >= 500) {
    const actions: FailureAction[] = mentionsAnthropic(err) ? ['setAnthropicKey', 'retry'] : ['retry', 'showLog'];
    return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions };
  }
  // Other 4xx: the server's message names the field and the fix.
  return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions: mentionsAnthropic(err) ? ['setAnthropicKey'] : [] };
}

export interface FailureUi {
  showError(message: string, ...items: string[]): PromiseLike<string | undefined>;
  runAction(action: Exclude<FailureAction, 'retry'>): PromiseLike<unknown>;
  log(message: string): void;
}

/**
 * Shows a failure as an error notification with its actions; `retry` appears
 * only when the caller can retry. Cancellations stay quiet: the user asked for them.
 */
export async function showFailure(err: unknown, ctx: FailureContext, ui: FailureUi, retry?: () => unknown): Promise<void> {
  const failure = describeFailure(err, ctx);
  ui.log(failure.message);
  if (failure.code === 'aborted') return;
  const actions = failure.actions.filter((a) => a !== 'retry' || retry !== undefined);
  const chosenLabel = await ui.showError(failure.message, ...actions.map((a) => FAILURE_ACTION_LABELS[a]));
  const chosen = actions.find((a) => FAILURE_ACTION_LABELS[a] === chosenLabel);
  if (chosen === undefined) return;
  if (chosen === 'retry') await retry?.();
  else await ui.runAction(chosen);
}
