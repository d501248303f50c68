import Anthropic from '@anthropic-ai/sdk';
import type { Usage } from '../../shared/api-types.js';
import type { Config, Env } from '../config/settings.js';
import { ChatModelError, type ChatEvent, type ChatModel, type ChatRequest, type ChatResult, type ContextBlock } from './chat-model.js';

/**
 * Where the credential came from decides what a rejection message tells the
 * developer to fix; the value itself never leaves this module except in the
 * request to Anthropic.
 */
export type AnthropicCredential =
  | { kind: 'apiKey'; origin: 'header' | 'env'; value: string }
  | { kind: 'authToken'; origin: 'env'; envVar: string; value: string };

/**
 * The developer's own key (request header) wins, then the server's
 * ANTHROPIC_API_KEY, then a gateway token from the variable named by
 * `sdk.auth_token_env_var`. Null means extractive mode.
 */
export function resolveCredential(env: Env, headerKey: string | undefined, authTokenEnvVar: string): AnthropicCredential | null {
  const fromHeader = headerKey?.trim();
  if (fromHeader) return { kind: 'apiKey', origin: 'header', value: fromHeader };
  const fromEnv = env.ANTHROPIC_API_KEY?.trim();
  if (fromEnv) return { kind: 'apiKey', origin: 'env', value: fromEnv };
  const token = authTokenEnvVar ? env[authTokenEnvVar]?.trim() : undefined;
  if (token) return { kind: 'authToken', origin: 'env', envVar: authTokenEnvVar, value: token };
  return null;
}

export interface ClaudeOptions {
  credential: AnthropicCredential;
  model: string;
  maxTokens: number;
  timeoutMs: number;
  /** ANTHROPIC_BASE_URL (a gateway or a test fake); null means api.anthropic.com. */
  baseURL: string | null;
  /** Small on purpose: the SDK retries 429/5xx honouring retry-after, then we surface the error. */
  maxRetries?: number;
}

export const DEFAULT_MAX_RETRIES = 2;

export function claudeOptionsFrom(config: Config, credential: AnthropicCredential): ClaudeOptions {
  const { sdk } = config.settings;
  return {
    credential,
    model: sdk.model,
    maxTokens: sdk.max_tokens,
    timeoutMs: sdk.timeout_ms,
    baseURL: config.env.ANTHROPIC_BASE_URL?.trim() || null,
  };
}

/** Each paragraph is its own text block: the minimal citable unit, so citations can name lines. */
export function toSearchResultBlock(block: ContextBlock): Anthropic.SearchResultBlockParam {
  return {
    type: 'search_result',
    source: block.source,
    title: block.title,
    content: block.paragraphs.map((p) => ({ type: 'text', text: p.text })),
    citations: { enabled: true },
  };
}

export function toMessages(request: ChatRequest): Anthropic.MessageParam[] {
  const history: Anthropic.MessageParam[] = request.history
    .filter((t) => t.text.trim() !== '')
    .map((t) => ({ role: t.role, content: t.text }));
  const current: Anthropic.ContentBlockParam[] = [...request.blocks.map(toSearchResultBlock), { type: 'text', text: request.question }];
  return [...history, { role: 'user', content: current }];
}

function toUsage(u: Anthropic.Usage): Usage {
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
  };
}

/** Upstream text can echo request details; a credential must never ride along. */
function redact(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
}

/** Claude through the official SDK: streamed, with search-result blocks for native citations. */
export class ClaudeChatModel implements ChatModel {
  readonly model: string;
  private readonly client: Anthropic;

  constructor(private readonly options: ClaudeOptions) {
    this.model = options.model;
    const { credential } = options;
    // Passing both explicitly (one null) keeps the SDK from reading ambient
    // ANTHROPIC_* variables: the server's resolution order is the only one.
    this.client = new Anthropic({
      apiKey: credential.kind === 'apiKey' ? credential.value : null,
      authToken: credential.kind === 'authToken' ? credential.value : null,
      baseURL: options.baseURL,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      timeout: options.timeoutMs,
    });
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatEvent, ChatResult, void> {
    const stream = this.client.messages.stream(
      {
        model: this.options.model,
        max_tokens: this.options.maxTokens,
        // The system prompt is identical for every question: a cache breakpoint lets repeat calls reuse it.
        system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
        messages: toMessages(request),
      },
      { signal: request.signal },
    );
    let finished = false;
    try {
      for await (const event of stream) {
        if (event.type !== 'content_block_delta') continue;
        const { delta } = event;
        if (delta.type === 'text_delta') {
          yield { type: 'text', text: delta.text };
        } else if (delta.type === 'citations_delta' && delta.citation.type === 'search_result_location') {
          const c = delta.citation;
          yield {
            type: 'citation',
            citation: {
              block_index: c.search_result_index,
              source: c.source,
              cited_text: c.cited_text,
              start_paragraph: c.start_block_index,
              end_paragraph: c.end_block_index,
            },
          };
        }
      }
      const final = await stream.finalMessage();
      // A connection closed cleanly before message_stop still yields a message, without a stop reason.
      if (final.stop_reason === null) {
        throw new ChatModelError('interrupted', 'the answer stream from Anthropic ended early; ask again');
      }
      finished = true;
      return { usage: toUsage(final.usage), stop_reason: final.stop_reason, model: final.model || this.model };
    } catch (e) {
      throw this.describe(e);
    } finally {
      if (!finished && !stream.ended) stream.abort();
    }
  }

  /** Maps SDK errors to what the developer can do about them. */
  describe(e: unknown): ChatModelError {
    if (e instanceof ChatModelError) return e;
    const { credential } = this.options;
    const clean = (s: string) => redact(s, credential.value);
    if (e instanceof Anthropic.APIUserAbortError) return new ChatModelError('aborted', 'the request was cancelled');
    if (e instanceof Anthropic.APIConnectionTimeoutError) {
      return new ChatModelError('timeout', `Claude did not answer within ${this.options.timeoutMs} ms (sdk.timeout_ms); try again or raise the timeout`);
    }
    if (e instanceof Anthropic.APIConnectionError) {
      const where = this.options.baseURL ? `the Anthropic endpoint ${this.options.baseURL} (ANTHROPIC_BASE_URL)` : 'api.anthropic.com';
      return new ChatModelError('connection', `cannot reach ${where}; check the network or proxy and try again`);
    }
    if (e instanceof Anthropic.APIError) {
      const type = e.type ?? '';
      const retryAfter = e.headers?.get('retry-after') ?? null;
      const status = e.status;
      if (status === 401 || type === 'authentication_error') {
        const fix =
          credential.kind === 'authToken'
            ? `check the gateway token in ${credential.envVar} (sdk.auth_token_env_var), or set ANTHROPIC_API_KEY`
            : credential.origin === 'header'
              ? "set it again with 'AI Library: Set Anthropic API Key'"
              : "set it with 'AI Library: Set Anthropic API Key' or ANTHROPIC_API_KEY";
        const what = credential.kind === 'authToken' ? 'auth token' : 'API key';
        return new ChatModelError('auth', `Anthropic rejected the ${what}: ${fix}`);
      }
      if (status === 403 || status === 402 || type === 'permission_error' || type === 'billing_error') {
        return new ChatModelError('permission', `Anthropic refused the request for this key (${type || status}); check the key's workspace, model access and billing in the Anthropic Console`);
      }
      if (status === 429 || type === 'rate_limit_error') {
        const wait = retryAfter ? `; retry after ${retryAfter} s` : '; try again shortly';
        return new ChatModelError('rate_limit', `Anthropic rate limit reached for this key${wait}`, retryAfter);
      }
      if (status === 529 || type === 'overloaded_error' || e instanceof Anthropic.OverloadedError) {
        return new ChatModelError('overloaded', 'Claude is overloaded; try again shortly', retryAfter);
      }
      if (status === 408 || status === 504 || type === 'timeout_error') {
        return new ChatModelError('timeout', 'Claude timed out answering; try again, or ask a narrower question');
      }
      if (status !== undefined && status >= 400 && status < 500) {
        const detail = e.apiMessage ? `: ${clean(e.apiMessage)}` : '';
        return new ChatModelError('bad_request', `Anthropic refused the request for model "${this.options.model}" (sdk.model)${detail}`);
      }
      if (status === undefined) {
        // An `error` event inside an already-open stream.
        return new ChatModelError('interrupted', `the answer stream from Anthropic broke off (${type || 'api_error'}); ask again`);
      }
      return new ChatModelError('upstream', `Anthropic returned an error (${status}); try again shortly`, retryAfter);
    }
    // Anything else mid-stream is a dropped or garbled connection (undici reports "terminated").
    return new ChatModelError('interrupted', 'the connection to Anthropic dropped while the answer was streaming; ask again');
  }
}

/** A model for this request, or null for extractive mode. */
export function createChatModel(config: Config, headerKey: string | undefined): ChatModel | null {
  const credential = resolveCredential(config.env, headerKey, config.settings.sdk.auth_token_env_var);
  return credential ? new ClaudeChatModel(claudeOptionsFrom(config, credential)) : null;
}
