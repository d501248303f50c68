import type { AnswerMode, AskRequest, AskResponse, AskStreamEvent, Citation, ConversationTurn, Usage } from '../../shared/api-types.js';
import type { ErrorCode } from '../../shared/error-codes.js';
import type { Config } from '../config/settings.js';
import { DomainError } from '../errors/domain-error.js';
import { CallPolicy, type Permit } from '../reliability/call-policy.js';
import { ProviderUnavailableError, type BreakerSettings, type CallOutcome, type CircuitBreaker } from '../reliability/circuit-breaker.js';
import type { SearchService } from '../retrieval/search.js';
import { ChatModelError, type ChatErrorKind, type ChatModel, type ChatResult, type ChatTurn, type NativeCitation } from './chat-model.js';
import { resolveCitations } from './citations.js';
import { createChatModel, resolveCredential } from './claude.js';
import { computeConfidence, usedSources } from './confidence.js';
import { buildQuestionPrompt, OUTPUT_SYSTEM_PROMPT, toContextBlocks, toRetrievedSources, type RetrievedSource } from './context.js';
import { ConversationNotFoundError, DEFAULT_DEVELOPER, HISTORY_TURNS, newConversationId, type ConversationStore } from './conversations.js';
import { claudeUnavailableNote, extractiveAnswer, NOTHING_FOUND } from './extractive.js';
import { condenseQuestion, conversationTopic, fuseResults, ownQuery, termQuery, type ContextualQuery } from './follow-up.js';

/** Chunks retrieved per question (README "How it works", Answers): enough context for a cited answer at a bounded prompt size. */
export const DEFAULT_ASK_RESULTS = 10;

export interface AskContext {
  /** Whose conversations these are: the authenticated developer ("local" without tokens). */
  developer?: string;
  /** The developer's own Anthropic key (request header); never stored, never logged. */
  apiKey?: string;
  /** Aborted when the client goes away, so Claude stops generating for nobody. */
  signal?: AbortSignal;
}

/**
 * An answer that failed. When text had already streamed, `partial` holds it
 * (saved to the conversation with `incomplete: true`) so nothing shown is lost.
 */
export class AnswerError extends DomainError {
  override name = 'AnswerError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfter: string | null = null,
    readonly partial: AskResponse | null = null,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }

  withPartial(partial: AskResponse): AnswerError {
    return new AnswerError(this.code, this.message, this.retryAfter, partial, { cause: this.cause });
  }
}

const CODE_BY_KIND: Record<ChatErrorKind, ErrorCode> = {
  auth: 'anthropic_unauthorized',
  permission: 'anthropic_forbidden',
  rate_limit: 'rate_limited',
  overloaded: 'overloaded',
  timeout: 'upstream_timeout',
  connection: 'upstream_unreachable',
  interrupted: 'stream_interrupted',
  bad_request: 'upstream_rejected',
  upstream: 'upstream_error',
  aborted: 'cancelled',
};

/**
 * Any failure while answering as an AnswerError: Claude's by its kind, a
 * DomainError keeping its code. Anything else is a bug here, so its details
 * stay in the log (`cause`); the HTTP layer maps store and disk failures
 * itself before it calls this (routes/answers.ts).
 */
export function toAnswerError(e: unknown): AnswerError {
  if (e instanceof AnswerError) return e;
  if (e instanceof ChatModelError) return new AnswerError(CODE_BY_KIND[e.kind], e.message, e.retryAfter, null, { cause: e });
  if (e instanceof DomainError) return new AnswerError(e.code, e.message, null, null, { cause: e });
  return new AnswerError('internal', 'internal error while answering; the server log has the details', null, null, { cause: e });
}

/**
 * What a Claude failure says about Anthropic's health. Unreachable, timed out,
 * overloaded, 5xx and broken streams mean trouble; a rate limit is this key's
 * budget, and auth or request errors prove Anthropic answered.
 */
function claudeOutcome(error: unknown): CallOutcome {
  if (!(error instanceof ChatModelError)) return 'neutral';
  switch (error.kind) {
    case 'connection':
    case 'timeout':
    case 'overloaded':
    case 'upstream':
    case 'interrupted':
      return 'failure';
    case 'aborted':
    case 'rate_limit':
      return 'neutral';
    default:
      return 'success';
  }
}

/**
 * Failures before any text that mean "Claude is down": the developer gets an
 * extractive answer at once rather than an error. Overloaded stays an error
 * (503 with Retry-After): Claude is up and asks to be retried shortly.
 */
function claudeIsDown(error: unknown): error is ChatModelError {
  return error instanceof ChatModelError && (error.kind === 'connection' || error.kind === 'timeout' || error.kind === 'upstream' || error.kind === 'interrupted');
}

/** Paid-usage accounting around Claude (the UsageMeter). */
export interface AnswerUsage {
  /** The note opening an extractive answer while paid answers are paused (monthly budget spent), or null to call Claude. */
  pausedNote(): string | null;
  /** `developer` undefined: whoever the request in progress belongs to. */
  recordAnswer(model: string, usage: Usage, developer: string | undefined): void;
}

export interface AskServiceDeps {
  config: Config;
  search: SearchService;
  conversations: ConversationStore;
  /** Picks the model for a request (null: extractive mode); replaceable for other providers. */
  chatModelFor?: (apiKey: string | undefined) => ChatModel | null;
  /** Anthropic's circuit breaker settings; one breaker per server, whoever's key a request carries. */
  breaker?: Partial<BreakerSettings>;
  /** Meters Claude's tokens and pauses paid answers at the monthly budget; absent, neither happens. */
  usage?: AnswerUsage;
  /** Decorates every model picked for a request (metrics), whichever way it was picked. */
  wrapModel?: (model: ChatModel) => ChatModel;
}

interface Prepared {
  question: string;
  conversationId: string;
  developer: string;
  history: ConversationTurn[];
  sources: RetrievedSource[];
  /** How a follow-up was searched with its conversation's topic; null for a first question. */
  contextual: ContextualQuery | null;
}

/** Only turns with an answer: the Messages API needs user/assistant turns to alternate. */
function toChatTurns(history: ConversationTurn[]): ChatTurn[] {
  return history
    .filter((t) => t.answer.trim() !== '')
    .flatMap((t): ChatTurn[] => [
      { role: 'user', text: t.question },
      { role: 'assistant', text: t.answer },
    ]);
}

/**
 * The answer flow (docs/architecture.md, "Path of an ask"): retrieve the top chunks, augment them as
 * search-result blocks, generate with Claude (or quote extractively without a
 * key), respond with citations and confidence, and save the turn.
 */
export class AskService {
  /** Claude's CallPolicy: behind a breaker, no retries (a retried answer would stream twice), no limit (rate limits are per key). */
  private readonly claude: CallPolicy;
  readonly breaker: CircuitBreaker;
  private envModel: ChatModel | null | undefined;

  constructor(private readonly deps: AskServiceDeps) {
    this.claude = new CallPolicy({ name: 'Claude', breaker: deps.breaker, classify: claudeOutcome });
    this.breaker = this.claude.breaker;
  }

  /** Whether the server holds a Claude credential of its own (/health reports it; a developer's key may still come with a request). */
  get llmConfigured(): boolean {
    const { env, settings } = this.deps.config;
    return resolveCredential(env, undefined, settings.sdk.auth_token_env_var) !== null;
  }

  private modelFor(apiKey: string | undefined): ChatModel | null {
    if (this.deps.chatModelFor) return this.wrapped(this.deps.chatModelFor(apiKey));
    if (apiKey?.trim()) return this.wrapped(createChatModel(this.deps.config, apiKey));
    // The server's own credential never changes while it runs: one client, reused.
    if (this.envModel === undefined) this.envModel = this.wrapped(createChatModel(this.deps.config, undefined));
    return this.envModel;
  }

  private wrapped(model: ChatModel | null): ChatModel | null {
    return model && this.deps.wrapModel ? this.deps.wrapModel(model) : model;
  }

  /**
   * A follow-up's standalone query: Claude's rewrite when a model may be
   * called (not over budget, circuit not open), else the conversation's terms.
   * A failed rewrite falls back to the terms; only a cancelled request stops.
   */
  private async contextualQuery(question: string, history: ConversationTurn[], model: ChatModel | null, ctx: AskContext): Promise<ContextualQuery | null> {
    if (model && this.deps.usage?.pausedNote() == null) {
      try {
        const condensed = await this.claude.run(() => condenseQuestion(model, question, history, ctx.signal));
        if (condensed) {
          this.deps.usage?.recordAnswer(condensed.result.model, condensed.result.usage, ctx.developer);
          return { query: condensed.query, contextTerms: conversationTopic(history), condensedBy: 'claude' };
        }
      } catch (e) {
        if ((e instanceof ChatModelError && e.kind === 'aborted') || ctx.signal?.aborted) throw toAnswerError(e);
      }
    }
    return termQuery(question, history);
  }

  private async prepare(req: AskRequest, ctx: AskContext, model: ChatModel | null): Promise<Prepared> {
    const developer = ctx.developer ?? DEFAULT_DEVELOPER;
    let history: ConversationTurn[] = [];
    let conversationId: string;
    if (req.conversation_id) {
      const conversation = await this.deps.conversations.get(req.conversation_id, developer);
      if (!conversation) throw new ConversationNotFoundError(req.conversation_id);
      history = conversation.history.slice(-HISTORY_TURNS);
      conversationId = conversation.id;
    } else {
      conversationId = newConversationId();
    }
    const n = req.n_results ?? DEFAULT_ASK_RESULTS;
    const searchFor = async (query: string) => (await this.deps.search.search({ query, n_results: n, filters: req.filters, mode: 'hybrid' })).results;
    const contextual = history.length > 0 ? await this.contextualQuery(req.question, history, model, ctx) : null;
    const results = contextual
      ? fuseResults(...(await Promise.all([searchFor(ownQuery(req.question)), searchFor(contextual.query)])), n)
      : await searchFor(req.question);
    const sources = toRetrievedSources(contextual ? `${req.question} ${contextual.query}` : req.question, results);
    return { question: req.question, conversationId, developer, history, sources, contextual };
  }

  private respond(
    p: Prepared,
    fields: { answer: string; citations: Citation[]; mode: AnswerMode; model: string | null; incomplete: boolean; usage: Usage | null },
  ): AskResponse {
    const used = usedSources(
      p.sources,
      fields.citations.map((c) => c.source_index),
      (s) => s.source.index,
    );
    const nothing = p.sources.length === 0 || (fields.mode === 'extractive' && fields.citations.length === 0);
    const { confidence } = computeConfidence(
      p.question,
      nothing ? [] : used.map((s) => ({ file_path: s.source.file_path, content: s.content, relevance: s.relevance })),
    );
    const searched = p.contextual ? { search_query: p.contextual.query } : {};
    return { ...fields, sources: p.sources.map((s) => s.source), confidence, conversation_id: p.conversationId, ...searched };
  }

  private async save(p: Prepared, r: AskResponse): Promise<void> {
    if (!this.deps.config.settings.sessions.auto_save) return;
    await this.deps.conversations.appendTurn(
      p.conversationId,
      {
        question: p.question,
        answer: r.answer,
        sources: r.sources,
        citations: r.citations,
        confidence: r.confidence,
        mode: r.mode,
        incomplete: r.incomplete,
        created_at: new Date().toISOString(),
        ...(r.search_query === undefined ? {} : { search_query: r.search_query }),
      },
      p.developer,
    );
  }

  /**
   * The answer as events: `sources`, then `delta`s, then `done`. Failures are
   * thrown as AnswerError (with `partial` when text had streamed), so the caller
   * decides between an HTTP status and an SSE `error` event.
   */
  async *stream(req: AskRequest, ctx: AskContext = {}): AsyncGenerator<AskStreamEvent, void, void> {
    let model = this.modelFor(ctx.apiKey);
    const p = await this.prepare(req, ctx, model);
    // Why Claude is skipped although a key is there; null when it is not.
    let unavailable: string | null = null;
    // Budget before the breaker: a paused budget must not take a half-open trial slot.
    const budgetNote = model && p.sources.length > 0 ? (this.deps.usage?.pausedNote() ?? null) : null;
    if (budgetNote) model = null;
    let permit: Permit | null = null;
    if (model && p.sources.length > 0) {
      try {
        permit = this.claude.admit();
      } catch (e) {
        if (!(e instanceof ProviderUnavailableError)) throw e;
        unavailable = e.reason;
        model = null;
      }
    }
    const mode: AnswerMode = model ? 'claude' : 'extractive';
    let sent = false;
    try {
      yield { event: 'sources', data: { sources: p.sources.map((s) => s.source), conversation_id: p.conversationId, mode } };
      sent = true;
    } finally {
      // A reader gone before Claude was asked must not hold a half-open trial slot.
      if (!sent) permit?.release();
    }

    if (!model || p.sources.length === 0) {
      // Nothing retrieved: say so without spending tokens on a model that may only use the context.
      const ex = model
        ? { answer: NOTHING_FOUND, citations: [] }
        : extractiveAnswer(p.question, p.sources, budgetNote ?? (unavailable === null ? undefined : claudeUnavailableNote(unavailable)), p.contextual?.contextTerms);
      yield { event: 'delta', data: { text: ex.answer } };
      const response = this.respond(p, { answer: ex.answer, citations: ex.citations, mode, model: null, incomplete: false, usage: null });
      await this.save(p, response);
      yield { event: 'done', data: response };
      return;
    }

    const blocks = toContextBlocks(p.sources);
    const generator = model.stream({
      system: OUTPUT_SYSTEM_PROMPT,
      history: toChatTurns(p.history),
      blocks,
      question: buildQuestionPrompt(p.question, p.sources, p.contextual?.query),
      signal: ctx.signal,
    });
    let text = '';
    const native: NativeCitation[] = [];
    let result: ChatResult;
    let settled = false;
    try {
      for (;;) {
        const step = await generator.next();
        if (step.done) {
          settled = true;
          permit?.succeeded();
          result = step.value;
          break;
        }
        if (step.value.type === 'text') {
          text += step.value.text;
          yield { event: 'delta', data: { text: step.value.text } };
        } else {
          native.push(step.value.citation);
        }
      }
    } catch (e) {
      settled = true;
      permit?.failed(e);
      const failure = toAnswerError(e);
      if (text === '' && claudeIsDown(e)) {
        yield* this.extractiveFallback(p, e.message);
        return;
      }
      if (text === '') throw failure;
      const partial = this.respond(p, {
        answer: text,
        citations: resolveCitations(text, native, blocks, p.sources),
        mode,
        model: model.model,
        incomplete: true,
        usage: null,
      });
      await this.save(p, partial);
      throw failure.withPartial(partial);
    } finally {
      // A consumer that stops reading (return() at a yield) must not leave Claude generating.
      if (!settled) {
        permit?.release();
        await generator.throw(new ChatModelError('aborted', 'the answer was abandoned')).catch(() => undefined);
      }
    }
    // Only finished answers report usage; tokens of a broken stream are not known (and not counted).
    this.deps.usage?.recordAnswer(result.model, result.usage, ctx.developer);
    const response = this.respond(p, {
      answer: text,
      citations: resolveCitations(text, native, blocks, p.sources),
      mode,
      model: result.model,
      // Cut by max_tokens: the reader should know the answer does not end where it should.
      incomplete: result.stop_reason === 'max_tokens',
      usage: result.usage,
    });
    await this.save(p, response);
    yield { event: 'done', data: response };
  }

  /** Claude failed before saying anything: quote the library instead, saying why. */
  private async *extractiveFallback(p: Prepared, reason: string): AsyncGenerator<AskStreamEvent, void, void> {
    const ex = extractiveAnswer(p.question, p.sources, claudeUnavailableNote(reason), p.contextual?.contextTerms);
    yield { event: 'delta', data: { text: ex.answer } };
    const response = this.respond(p, { answer: ex.answer, citations: ex.citations, mode: 'extractive', model: null, incomplete: false, usage: null });
    await this.save(p, response);
    yield { event: 'done', data: response };
  }

  /** The whole answer at once: the JSON response of `POST /api/query/ask` without `Accept: text/event-stream`. */
  async ask(req: AskRequest, ctx: AskContext = {}): Promise<AskResponse> {
    for await (const event of this.stream(req, ctx)) {
      if (event.event === 'done') return event.data;
    }
    throw new AnswerError('internal', 'the answer ended without a result; the server log has the details');
  }
}
