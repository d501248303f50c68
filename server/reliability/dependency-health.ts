import type { DependencyHealth } from '../../shared/api-types.js';
import type { Embedder } from '../embedders/embedder.js';
import type { VectorStore } from '../stores/vector-store.js';
import { failureCount, type CircuitBreaker } from './circuit-breaker.js';

export interface DependencyProbesOptions {
  store: VectorStore;
  embedder: Embedder;
  /** Anthropic's breaker (AskService); Claude itself is never probed: a probe would cost tokens. */
  llmBreaker: CircuitBreaker;
  /** Whether the server has its own Anthropic credential (developers may still send theirs). */
  llmConfigured: boolean;
  /** A probe's answer is reused this long, so /health stays cheap under frequent polling. */
  cacheMs: number;
  /** Longest a probe may take before the dependency counts as not up. */
  timeoutMs: number;
  now?: () => number;
}

export interface DependencyReport {
  store: DependencyHealth;
  embedder: DependencyHealth;
  llm: DependencyHealth;
}

type Timed<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number; timedOut: boolean };

class ProbeTimeout extends Error {}

/** Runs `work` for at most `timeoutMs`; the work itself goes on (and still reports to its breaker). */
async function timed<T>(work: () => Promise<T>, timeoutMs: number): Promise<Timed<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), timeoutMs);
  });
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const value = await Promise.race([work(), timeout]);
    return { ok: true, value, ms: elapsed() };
  } catch (error) {
    return { ok: false, error, ms: elapsed(), timedOut: error instanceof ProbeTimeout };
  } finally {
    clearTimeout(timer);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A probe answered at most once per `cacheMs`; callers arriving meanwhile share the answer (or the probe in flight). */
class CachedProbe<T> {
  private last: { at: number; value: Promise<T> } | null = null;
  private inFlight = false;

  constructor(
    private readonly probe: () => Promise<T>,
    private readonly cacheMs: number,
    private readonly now: () => number,
  ) {}

  get(): Promise<T> {
    const now = this.now();
    if (this.last && (this.inFlight || now - this.last.at < this.cacheMs)) return this.last.value;
    this.inFlight = true;
    const value = this.probe().finally(() => {
      this.inFlight = false;
    });
    this.last = { at: now, value };
    return value;
  }
}

/**
 * What GET /health reports per dependency. The store answers a count, the
 * embedder embeds one short query (for remote providers this goes through
 * their circuit breaker, so an open circuit answers at once), and Claude is
 * judged by its breaker alone.
 */
export class DependencyProbes {
  /** The last count the store answered; /health's `store.points`. */
  points = 0;
  private readonly store: CachedProbe<DependencyHealth>;
  private readonly embedder: CachedProbe<DependencyHealth>;

  constructor(private readonly options: DependencyProbesOptions) {
    const now = options.now ?? Date.now;
    this.store = new CachedProbe(() => this.probeStore(), options.cacheMs, now);
    this.embedder = new CachedProbe(() => this.probeEmbedder(), options.cacheMs, now);
  }

  async check(): Promise<DependencyReport> {
    const [store, embedder] = await Promise.all([this.store.get(), this.embedder.get()]);
    return { store, embedder, llm: this.llm() };
  }

  private circuit(breaker: CircuitBreaker | undefined): Pick<DependencyHealth, 'circuit'> {
    return breaker ? { circuit: breaker.state } : {};
  }

  private async probeStore(): Promise<DependencyHealth> {
    const { store, timeoutMs } = this.options;
    const r = await timed(() => store.count(), timeoutMs);
    if (r.ok) {
      this.points = r.value;
      return { status: 'up', latency_ms: r.ms, detail: `${store.kind} store at ${store.location} counted ${r.value} points`, ...this.circuit(store.breaker) };
    }
    const detail = r.timedOut
      ? `${store.kind} store at ${store.location} did not count its points within ${timeoutMs} ms (reliability.health_timeout_ms); check its load`
      : message(r.error);
    return { status: r.timedOut ? 'degraded' : 'down', latency_ms: r.ms, detail, ...this.circuit(store.breaker) };
  }

  private async probeEmbedder(): Promise<DependencyHealth> {
    const { embedder, timeoutMs } = this.options;
    // A query passes any cache straight to the provider, so this really reaches it.
    const r = await timed(() => embedder.embed(['health check'], 'query'), timeoutMs);
    if (r.ok) {
      const where = embedder.breaker ? 'answered a one-word embedding' : 'runs in-process';
      return { status: 'up', latency_ms: r.ms, detail: `${embedder.id} ${where}`, ...this.circuit(embedder.breaker) };
    }
    const detail = r.timedOut
      ? `${embedder.id} did not embed one word within ${timeoutMs} ms (reliability.health_timeout_ms); the provider is slow or retrying`
      : message(r.error);
    return { status: r.timedOut ? 'degraded' : 'down', latency_ms: r.ms, detail, ...this.circuit(embedder.breaker) };
  }

  private llm(): DependencyHealth {
    const { llmBreaker, llmConfigured } = this.options;
    const snap = llmBreaker.snapshot();
    const circuit = { circuit: snap.state };
    if (snap.state === 'open') {
      const wait = Math.ceil((snap.retry_in_ms ?? 0) / 1000);
      const last = snap.last_error ? `: ${snap.last_error}` : '';
      return {
        status: 'down',
        latency_ms: null,
        detail: `${llmBreaker.name} unavailable (circuit open after ${failureCount(snap.consecutive_failures)}; retrying in ${wait} s)${last}; questions get extractive answers meanwhile`,
        ...circuit,
      };
    }
    if (snap.state === 'half_open') {
      return { status: 'degraded', latency_ms: null, detail: `${llmBreaker.name} is recovering: the next question tries it again`, ...circuit };
    }
    const detail = llmConfigured
      ? `${llmBreaker.name} answers with the server's key (not probed: a probe would cost tokens)`
      : `no server Anthropic key: answers are extractive unless a developer sends their own key`;
    return { status: 'up', latency_ms: null, detail, ...circuit };
  }
}
