/**
 * The one answer to "can I use the server now?", shared by the status bar, the
 * Library tree and the chat. Every request's outcome (ApiClient's `observe`) and a
 * light periodic check update it. No `vscode` import: the unit tests drive it
 * with real HTTP against a tiny local server.
 *
 * /health sits outside the server's auth (server/auth/middleware.ts covers /api
 * only), so a 200 from /health alone never means "connected": an /api answer must
 * show that the token is accepted too.
 */
import type { HealthResponse, StatsResponse } from '../shared/api-types.js';
import type { ApiClient, RequestOutcome } from './api-client.js';
import { isClaudeFailure, tokenReason } from './errors.js';

export type ConnectionKind = 'checking' | 'connected' | 'indexing' | 'needsToken' | 'unreachable' | 'serverError';

export interface IndexingCount {
  done: number;
  total: number;
  current: string | null;
  /** This window's own upload (Index This File), not the server's background run. */
  local: boolean;
}

export interface ConnectionSnapshot {
  kind: ConnectionKind;
  serverUrl: string;
  /** Why the server cannot be used (the server's or the transport's words); null when it can. */
  reason: string | null;
  chunks: number | null;
  documents: number | null;
  version: string | null;
  storeKind: string | null;
  /** /health said "degraded" (e.g. Claude down: answers are extractive); the library still works. */
  degraded: string | null;
  indexing: IndexingCount | null;
}

type Transport = { ok: true } | { ok: false; kind: 'unreachable' | 'serverError'; reason: string };
type Auth = 'unknown' | 'ok' | { refused: string };

export interface Disposable {
  dispose(): void;
}

/** Facts from outcomes and checks, and the state they add up to; `onDidChange` fires when the snapshot changes. */
export class ConnectionState {
  private transport: Transport | null = null;
  private auth: Auth = 'unknown';
  private health: HealthResponse | null = null;
  private stats: StatsResponse | null = null;
  private local: { done: number; total: number } | null = null;
  private last: ConnectionSnapshot;
  private readonly listeners = new Set<(s: ConnectionSnapshot) => void>();

  constructor(private readonly serverUrl: () => string) {
    this.last = this.derive();
  }

  get current(): ConnectionSnapshot {
    return this.last;
  }

  /** Whether an /api answer since the last reset showed the token is accepted. */
  get authKnown(): boolean {
    return this.auth !== 'unknown';
  }

  onDidChange(listener: (s: ConnectionSnapshot) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Called by ApiClient for every request that got an answer or failed to. */
  observe(outcome: RequestOutcome): void {
    if (outcome.ok) {
      this.transport = { ok: true };
      if (outcome.authenticated) this.auth = 'ok';
      return this.update();
    }
    const err = outcome.error;
    if (err.code === 'aborted') return;
    if (err.code === 'unreachable' || err.code === 'timeout' || err.code === 'bad_server_url') {
      this.transport = { ok: false, kind: 'unreachable', reason: err.message };
    } else if ((err.status === 401 || err.status === 403) && !isClaudeFailure(err.code)) {
      this.transport = { ok: true };
      this.auth = { refused: tokenReason(err.message) };
    } else if ((err.status === 0 || err.status >= 500) && !isClaudeFailure(err.code)) {
      this.transport = { ok: false, kind: 'serverError', reason: err.message };
    } else {
      // Any other answer (400, 404, 413, 429, Claude refusing the developer's key) proves the server is up and let us in.
      this.transport = { ok: true };
      if (outcome.authenticated) this.auth = 'ok';
    }
    this.update();
  }

  reportHealth(health: HealthResponse): void {
    this.health = health;
    this.update();
  }

  reportStats(stats: StatsResponse): void {
    this.stats = stats;
    this.update();
  }

  /** This window's upload progress; null when it is over. */
  setLocalIndexing(progress: { done: number; total: number } | null): void {
    this.local = progress;
    this.update();
  }

  /** A new token or server URL: what we knew about access no longer holds. */
  resetAccess(): void {
    this.auth = 'unknown';
    this.transport = null;
    this.health = null;
    this.stats = null;
    this.update();
  }

  private derive(): ConnectionSnapshot {
    const h = this.health;
    const base: ConnectionSnapshot = {
      kind: 'checking',
      serverUrl: this.serverUrl().replace(/\/+$/, ''),
      reason: null,
      // /health's count moves while the server indexes; stats come from the slower auth probe.
      chunks: h?.store.points ?? this.stats?.points_count ?? null,
      documents: this.stats?.documents ?? null,
      version: h?.version ?? null,
      storeKind: h?.store.kind ?? null,
      degraded: h && h.status === 'degraded' ? (h.indexing.error ?? 'a dependency is down (Show Index Status says which)') : null,
      indexing: null,
    };
    if (this.transport && !this.transport.ok) return { ...base, kind: this.transport.kind, reason: this.transport.reason };
    if (typeof this.auth === 'object') return { ...base, kind: 'needsToken', reason: this.auth.refused };
    if (this.transport === null || this.auth === 'unknown') return base;
    if (this.local) return { ...base, kind: 'indexing', indexing: { ...this.local, current: null, local: true } };
    if (h?.indexing.state === 'running') {
      return { ...base, kind: 'indexing', indexing: { done: h.indexing.files_done, total: h.indexing.files_total, current: h.indexing.current, local: false } };
    }
    return { ...base, kind: 'connected' };
  }

  private update(): void {
    const next = this.derive();
    if (JSON.stringify(next) === JSON.stringify(this.last)) return;
    this.last = next;
    for (const l of [...this.listeners]) l(next);
  }
}

export interface MonitorIntervals {
  connectedMs: number;
  /** Checking, unreachable or a server error: the state should recover soon after the server does. */
  troubleMs: number;
  indexingMs: number;
  needsTokenMs: number;
}

export const DEFAULT_INTERVALS: MonitorIntervals = { connectedMs: 45_000, troubleMs: 5_000, indexingMs: 3_000, needsTokenMs: 45_000 };

/** Auth is re-probed at most this often while the fast indexing poll runs. */
const AUTH_PROBE_WHILE_INDEXING_MS = 30_000;

/**
 * The light periodic check: GET /health, then GET /api/library/stats to learn
 * whether the token is accepted. Its interval follows the state, and a change of
 * state (from any request) reschedules it.
 */
export class ConnectionMonitor implements Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | null = null;
  private lastAuthProbe = 0;
  private disposed = false;
  private readonly sub: Disposable;
  private kind: ConnectionKind;

  constructor(
    private readonly client: ApiClient,
    private readonly state: ConnectionState,
    private readonly intervals: MonitorIntervals = DEFAULT_INTERVALS,
  ) {
    this.kind = state.current.kind;
    this.sub = state.onDidChange((s) => {
      if (s.kind === this.kind) return;
      this.kind = s.kind;
      if (!this.running) this.schedule();
    });
  }

  /** Checks now (joining a check under way); never throws. */
  check(): Promise<void> {
    this.running ??= this.runCheck().finally(() => {
      this.running = null;
      this.schedule();
    });
    return this.running;
  }

  private async runCheck(): Promise<void> {
    clearTimeout(this.timer);
    try {
      this.state.reportHealth(await this.client.health());
    } catch {
      // The client reported the outcome to the state already.
      return;
    }
    const fastPoll = this.state.current.kind === 'indexing' && this.state.authKnown;
    if (fastPoll && Date.now() - this.lastAuthProbe < AUTH_PROBE_WHILE_INDEXING_MS) return;
    this.lastAuthProbe = Date.now();
    try {
      this.state.reportStats(await this.client.stats());
    } catch {
      // Reported through the client: a 401 here is exactly what makes the state "needs token".
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.disposed) return;
    const i = this.intervals;
    const ms = { connected: i.connectedMs, indexing: i.indexingMs, needsToken: i.needsTokenMs, checking: i.troubleMs, unreachable: i.troubleMs, serverError: i.troubleMs }[
      this.state.current.kind
    ];
    this.timer = setTimeout(() => void this.check(), ms);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.sub.dispose();
  }
}
