/**
 * Turns any failure into one message that says what went wrong and buttons that
 * fix it. No `vscode` import: the UI is injected, so the wording is unit-tested
 * and the chat webview can show the same actions as a notification would.
 */
import { FAILURE_ACTION_LABELS, type FailureAction } from '../shared/webview-protocol.js';
import { ApiError, type ApiErrorCode } from './api-client.js';

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

/** The server's own hint names the command; the status bar and the button already do. */
export function tokenReason(message: string): string {
  return message.replace(/[:;,]?\s*(then )?set a token with "AI Library: Set Server Token".*$/i, '').trim() || 'it needs a server token';
}

/**
 * Failures of Claude (the developer's Anthropic key refused, Anthropic
 * unreachable or failing), not of the AI Library server: they say nothing about
 * the server token or the server's health (extension/connection-state.ts).
 */
export function isClaudeFailure(code: ApiErrorCode): boolean {
  switch (code) {
    case 'anthropic_unauthorized':
    case 'anthropic_forbidden':
    case 'upstream_timeout':
    case 'upstream_unreachable':
    case 'upstream_rejected':
    case 'upstream_error':
    case 'stream_interrupted':
      return true;
    default:
      return false;
  }
}

/** A failure by the HTTP status alone: an error answer without a code this version lists (a proxy, another server version). */
function byStatus(err: ApiError, ctx: FailureContext, url: string): FailureDescription {
  if (err.status === 401 || err.status === 403) return tokenRefused(err, ctx, url);
  if (err.status === 413) return tooLarge(err, ctx);
  if (err.status === 429) return rateLimited(err, ctx);
  if (err.status === 503) return unavailable(err, ctx);
  if (err.status === 0 || err.status >= 500) return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions: ['retry', 'showLog'] };
  return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions: [] };
}

function tokenRefused(err: ApiError, ctx: FailureContext, url: string): FailureDescription {
  // One sentence; the button is the only place that names "Set Server Token" (issue 14, defect 7).
  return {
    code: err.code,
    message: `${prefix(ctx)}the server at ${url} refused it: ${tokenReason(err.message)}${ctx.afterToken ? `; ${ctx.afterToken}` : ''}.`,
    actions: ['setServerToken'],
  };
}

function tooLarge(err: ApiError, ctx: FailureContext): FailureDescription {
  return {
    code: err.code,
    message: `${prefix(ctx)}file too large for the server (${err.message}). Index a smaller file, or raise the server's limit.`,
    actions: [],
  };
}

function rateLimited(err: ApiError, ctx: FailureContext): FailureDescription {
  const wait = err.retryAfterSeconds ?? 30;
  return { code: err.code, message: `${prefix(ctx)}rate limited, retry in ${wait} s.`, actions: ['retry'] };
}

function unavailable(err: ApiError, ctx: FailureContext): FailureDescription {
  return { code: err.code, message: `${prefix(ctx)}${err.message}`, actions: ['retry', 'showIndexStatus'] };
}

/** Wording and actions by the error's code (shared/error-codes.ts and the client's own); every code is handled. */
export function describeFailure(err: unknown, ctx: FailureContext): FailureDescription {
  if (!(err instanceof ApiError)) {
    const detail = err instanceof Error ? err.message : String(err);
    return { code: 'internal', message: `${prefix(ctx)}${detail}. The AI Library log has details.`, actions: ['showLog'] };
  }
  const url = ctx.serverUrl.replace(/\/+$/, '');
  const code = err.code;
  switch (code) {
    case 'unreachable':
      return {
        code,
        message: ctx.doing
          ? `${prefix(ctx)}the AI Library server is not reachable at ${url}; start it with "npm start" or set aiLibrary.serverUrl to your team's server.`
          : `AI Library server not reachable at ${url}. Start it with "npm start" or set aiLibrary.serverUrl to your team's server.`,
        actions: ['openSettings', 'retry'],
      };
    case 'timeout':
      return { code, message: `${prefix(ctx)}${err.message}. Check the server, or raise aiLibrary.requestTimeoutMs.`, actions: ['retry', 'openSettings'] };
    case 'bad_server_url':
      return { code, message: `AI Library: ${err.message}`, actions: ['openSettings'] };
    case 'aborted':
    case 'cancelled':
      return { code: 'aborted', message: `${prefix(ctx)}cancelled.`, actions: [] };
    case 'unauthorized':
    case 'forbidden':
    case 'forbidden_origin':
      return tokenRefused(err, ctx, url);
    case 'anthropic_unauthorized':
    case 'anthropic_forbidden':
      return {
        code,
        message: `${prefix(ctx)}the Anthropic API key was refused (${err.message}). Set a Console API key with "AI Library: Set Anthropic API Key".`,
        actions: ['setAnthropicKey'],
      };
    case 'upstream_rejected':
      // Anthropic refused the request itself (model access, billing): often the key's workspace.
      return { code, message: `${prefix(ctx)}${err.message}`, actions: ['setAnthropicKey', 'retry'] };
    case 'payload_too_large':
      return tooLarge(err, ctx);
    case 'rate_limited':
      return rateLimited(err, ctx);
    case 'budget_exhausted':
    case 'store_unavailable':
    case 'provider_unavailable':
    case 'embedder_unavailable':
    case 'overloaded':
    case 'index_failed':
      return unavailable(err, ctx);
    case 'no_route':
      return {
        code,
        message: `${prefix(ctx)}the server at ${url} does not have this endpoint (${err.message}); update the server to a matching version.`,
        actions: ['openSettings'],
      };
    case 'upstream_timeout':
    case 'upstream_unreachable':
    case 'upstream_error':
    case 'stream_interrupted':
    case 'stream_ended':
    case 'bad_response':
    case 'embedder_error':
    case 'insufficient_storage':
    case 'config_error':
    case 'delete_failed':
    case 'internal':
      return { code, message: `${prefix(ctx)}${err.message}`, actions: ['retry', 'showLog'] };
    // The request itself: the server's message names the field and the fix.
    case 'invalid_request':
    case 'invalid_json':
    case 'invalid_path':
    case 'invalid_snapshot':
    case 'unsupported_media_type':
    case 'not_found':
    case 'not_indexed':
    case 'unsupported_type':
    case 'not_indexable':
    case 'job_finished':
    case 'job_elsewhere':
    case 'embedder_mismatch':
    case 'misdirected_request':
      return { code, message: `${prefix(ctx)}${err.message}`, actions: [] };
    case 'http_error':
      return byStatus(err, ctx, url);
    default:
      // Fails to compile when a code is added to shared/error-codes.ts and not handled above.
      code satisfies never;
      return byStatus(err, ctx, url);
  }
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
