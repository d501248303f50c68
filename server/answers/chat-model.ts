import type { Usage } from '../../shared/api-types.js';

/**
 * A retrieved chunk as the model sees it. Paragraphs are separate citable units,
 * so a native citation can point at the lines it quotes rather than the whole chunk.
 */
export interface ContextBlock {
  /** Stable id the model echoes back in citations, e.g. `docs/api.md#L10-L42`. */
  source: string;
  /** Human-readable heading, e.g. `docs/api.md (Section: Authentication)`. */
  title: string;
  paragraphs: Array<{ text: string; start_line: number; end_line: number }>;
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  text: string;
}

export interface ChatRequest {
  system: string;
  /** Earlier turns, oldest first; the current question is not among them. */
  history: ChatTurn[];
  /** Sent before the question, in this order: citations refer to them by position. */
  blocks: ContextBlock[];
  question: string;
  signal?: AbortSignal;
}

/** A citation the model attached natively, pointing at one of `ChatRequest.blocks`. */
export interface NativeCitation {
  /** 0-based position in `ChatRequest.blocks`. */
  block_index: number;
  source: string;
  cited_text: string;
  /** Range of cited paragraphs, end exclusive; null when the model did not say. */
  start_paragraph: number | null;
  end_paragraph: number | null;
}

export type ChatEvent = { type: 'text'; text: string } | { type: 'citation'; citation: NativeCitation };

export interface ChatResult {
  usage: Usage;
  /** `end_turn`, `max_tokens`, ...; null never reaches here (a cut stream is an error). */
  stop_reason: string;
  model: string;
}

export type ChatErrorKind = 'auth' | 'permission' | 'rate_limit' | 'overloaded' | 'timeout' | 'connection' | 'interrupted' | 'bad_request' | 'upstream' | 'aborted';

/**
 * A model failure in terms the answer flow can act on. Messages are written for
 * the developer reading them and never carry a credential.
 */
export class ChatModelError extends Error {
  override name = 'ChatModelError';
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
    /** Seconds (or an HTTP date) the provider asked us to wait, passed on as Retry-After. */
    readonly retryAfter: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Streams one answer. Yields text deltas and citations as they arrive, returns
 * usage and stop reason, and throws ChatModelError when the provider fails
 * (before or during the stream).
 */
export interface ChatModel {
  readonly model: string;
  stream(request: ChatRequest): AsyncGenerator<ChatEvent, ChatResult, void>;
}
