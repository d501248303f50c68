import path from 'node:path';
import type { Usage } from '../../shared/api-types.js';
import type { Config } from '../config/settings.js';
import { DomainError } from '../errors/domain-error.js';
import { Pricing, type TokenUsage } from './pricing.js';
import { currentDeveloper } from './usage-scope.js';
import { USAGE_FILE, UsageStore, emptyTotals, type UsageProvider, type UsageRow, type UsageTotals } from './usage-store.js';

export interface BudgetSettings {
  /** USD per calendar month (UTC); 0 means unlimited. */
  monthly_usd: number;
  /** Percent of the budget at which a warning is logged and reported. */
  warn_percent: number;
}

export type BudgetState = 'unlimited' | 'ok' | 'warning' | 'exhausted';

export interface BudgetStatus {
  month: string;
  monthly_usd: number;
  spent_usd: number;
  /** Null when the budget is unlimited. */
  remaining_usd: number | null;
  percent: number | null;
  warn_percent: number;
  state: BudgetState;
  /** At or above warn_percent (so also when exhausted): the flag a dashboard or client checks. */
  warning: boolean;
  /** Paid answers are extractive and paid indexing is paused. */
  exhausted: boolean;
  /** The first day (UTC) of the next month, when the budget starts over. */
  resets_on: string;
}

export type DeveloperTotals = { developer: string } & UsageTotals;
export type DeveloperDayTotals = { day: string; developer: string } & UsageTotals;
export type ModelTotals = { provider: UsageProvider; model: string } & UsageTotals;

/** GET /api/admin/usage and `npm run usage -- --json`. */
export interface UsageReport {
  month: string;
  budget: BudgetStatus;
  totals: UsageTotals;
  by_developer: DeveloperTotals[];
  /** Per developer and UTC day, all providers. */
  by_developer_day: DeveloperDayTotals[];
  by_model: ModelTotals[];
  /** The finest grain: per day, developer, provider and model. */
  rows: UsageRow[];
  notes: string[];
}

/** Where threshold warnings go: the server's pino logger, or stderr for the CLI. */
export interface UsageLogger {
  warn(fields: object, message: string): void;
}

const stderrLogger: UsageLogger = {
  warn: (_fields, message) => console.error(`ai-library: ${message}`),
};

/** Paid work refused because the month's budget is spent (a dependency paused: the API answers 503). */
export class BudgetExhaustedError extends DomainError {
  override name = 'BudgetExhaustedError';
  constructor(message: string) {
    super('budget_exhausted', message);
  }
}

export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function isMonth(value: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
}

/** `2026-07` → `2026-08-01`. */
export function nextMonthStart(month: string): string {
  const [y, m] = month.split('-').map(Number);
  const next = new Date(Date.UTC(y ?? 1970, m ?? 1, 1));
  return dayOf(next);
}

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}

/** Money in reports: micro-dollars are below any price's precision, and float sums carry noise beyond them. */
function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function rounded<T extends UsageTotals>(t: T): T {
  return { ...t, cost_usd: round6(t.cost_usd) };
}

function addInto(target: UsageTotals, r: UsageTotals): void {
  target.requests += r.requests;
  target.input_tokens += r.input_tokens;
  target.output_tokens += r.output_tokens;
  target.cache_read_tokens += r.cache_read_tokens;
  target.cache_write_tokens += r.cache_write_tokens;
  target.estimated_tokens += r.estimated_tokens;
  target.cost_usd += r.cost_usd;
}

function groupBy<K extends object>(rows: UsageRow[], keyOf: (r: UsageRow) => K): Array<K & UsageTotals> {
  const groups = new Map<string, K & UsageTotals>();
  for (const r of rows) {
    const key = keyOf(r);
    const id = JSON.stringify(key);
    let g = groups.get(id);
    if (!g) {
      g = { ...key, ...emptyTotals() };
      groups.set(id, g);
    }
    addInto(g, r);
  }
  return [...groups.values()].map(rounded);
}

/** Names come from tokens; keep what is stored short and printable whatever a caller sends. */
function cleanDeveloper(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 64);
  return clean === '' ? 'unknown' : clean;
}

export interface RecordInput {
  provider: UsageProvider;
  model: string;
  usage: TokenUsage;
  /** The input count is characters / 4, not the provider's count. */
  estimated?: boolean;
  /** Defaults to the developer of the request in progress (usage-scope). */
  developer?: string;
}

/**
 * Records paid tokens per developer and day, prices them, and keeps the
 * monthly budget: a warning at `warn_percent`, and at 100 % Claude answers
 * turn extractive and indexing with a paid embedder pauses until the month
 * ends. Spend is read from the store on each check (one indexed sum), so the
 * server and a CLI run writing the same file see each other's spending.
 *
 * The check happens before a call and its cost is known after, so concurrent
 * calls can overshoot the budget by what they cost together.
 */
export class UsageMeter {
  /** The clock; months and days are UTC. Replaceable so a month's boundaries can be tested. */
  now: () => Date = () => new Date();
  private logger: UsageLogger;
  /** Highest level already logged per month, so a threshold is announced once, not per call. */
  private readonly announced = new Map<string, BudgetState>();
  private readonly unpriced = new Set<string>();
  private recordFailureLogged = false;

  constructor(
    readonly store: UsageStore,
    readonly pricing: Pricing,
    readonly budget: BudgetSettings,
    logger: UsageLogger = stderrLogger,
  ) {
    this.logger = logger;
  }

  /** The server hands over its logger once the app exists (services are built before it). */
  setLogger(logger: UsageLogger): void {
    this.logger = logger;
  }

  record(input: RecordInput): void {
    const now = this.now();
    const { usage } = input;
    const lookup = this.pricing.lookup(input.model);
    if (lookup.matched === null && !this.unpriced.has(input.model)) {
      this.unpriced.add(input.model);
      this.logger.warn(
        { model: input.model, fallback: this.pricing.fallback },
        `usage: no price for model "${input.model}"; priced at pricing.fallback (${usd(this.pricing.fallback.input)} in / ${usd(this.pricing.fallback.output)} out per million tokens); add it under pricing.models in settings.yaml`,
      );
    }
    try {
      this.store.add({
        day: dayOf(now),
        developer: cleanDeveloper(input.developer ?? currentDeveloper()),
        provider: input.provider,
        model: input.model,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens ?? 0,
        cache_read_tokens: usage.cache_read_input_tokens ?? 0,
        cache_write_tokens: usage.cache_creation_input_tokens ?? 0,
        estimated_tokens: input.estimated ? usage.input_tokens : 0,
        cost_usd: this.pricing.costOf(input.model, usage),
      });
    } catch (e) {
      // The answer or the vectors were already paid for and delivered; losing the count must not fail the request.
      if (!this.recordFailureLogged) {
        this.recordFailureLogged = true;
        this.logger.warn({ file: this.store.file, err: e instanceof Error ? e.message : String(e) }, `usage: cannot record tokens in ${this.store.file}; spend and budget under-count until this is fixed`);
      }
      return;
    }
    this.status(monthOf(now));
  }

  /** Claude's usage for one answer (AskService calls it). */
  recordAnswer(model: string, usage: Usage, developer: string | undefined): void {
    this.record({ provider: 'anthropic', model, usage, developer });
  }

  /** The budget for a month (default: this month), logging a threshold the first time it is seen crossed. */
  status(month: string = monthOf(this.now())): BudgetStatus {
    const { monthly_usd, warn_percent } = this.budget;
    const spent = this.store.spent(month);
    const percent = monthly_usd > 0 ? (spent / monthly_usd) * 100 : null;
    const state: BudgetState = percent === null ? 'unlimited' : percent >= 100 ? 'exhausted' : percent >= warn_percent ? 'warning' : 'ok';
    const status: BudgetStatus = {
      month,
      monthly_usd,
      spent_usd: round6(spent),
      remaining_usd: percent === null ? null : round6(Math.max(0, monthly_usd - spent)),
      percent: percent === null ? null : Math.round(percent * 10) / 10,
      warn_percent,
      state,
      warning: state === 'warning' || state === 'exhausted',
      exhausted: state === 'exhausted',
      resets_on: nextMonthStart(month),
    };
    if (month === monthOf(this.now())) this.announce(status);
    return status;
  }

  private announce(s: BudgetStatus): void {
    if (s.state !== 'warning' && s.state !== 'exhausted') return;
    const before = this.announced.get(s.month);
    if (before === s.state || before === 'exhausted') return;
    this.announced.set(s.month, s.state);
    const fields = { month: s.month, spent_usd: s.spent_usd, monthly_usd: s.monthly_usd, percent: s.percent };
    if (s.state === 'warning') {
      this.logger.warn(
        fields,
        `usage: ${usd(s.spent_usd)} of the monthly budget of ${usd(s.monthly_usd)} spent (${s.percent} %); at 100 % answers turn extractive and paid indexing pauses until ${s.resets_on} (budget.monthly_usd)`,
      );
    } else {
      this.logger.warn(
        fields,
        `usage: monthly budget of ${usd(s.monthly_usd)} reached (${usd(s.spent_usd)} spent); answers are extractive and paid indexing is paused until ${s.resets_on}; raise budget.monthly_usd to resume earlier`,
      );
    }
  }

  /** Null while Claude may be called; otherwise the note that opens the extractive answer. */
  pausedNote(): string | null {
    const s = this.status();
    if (!s.exhausted) return null;
    return `Extractive answer (monthly budget of ${usd(s.monthly_usd)} reached; answers are extractive until ${s.resets_on}): the most relevant passages from the library, quoted.`;
  }

  /** Throws BudgetExhaustedError when indexing with a paid embedder must pause. */
  assertCanIndex(provider: string): void {
    const s = this.status();
    if (!s.exhausted) return;
    throw new BudgetExhaustedError(
      `indexing is paused: the monthly budget of ${usd(s.monthly_usd)} is reached (${usd(s.spent_usd)} spent) and embeddings.provider "${provider}" is paid; ` +
        `it resumes on ${s.resets_on}, or now if an operator raises budget.monthly_usd. Search and extractive answers keep working`,
    );
  }

  report(month: string = monthOf(this.now())): UsageReport {
    const rows = this.store.rows(month);
    const totals = emptyTotals();
    for (const r of rows) addInto(totals, r);
    const notes = ['Days and months are UTC; the budget starts over on the 1st at 00:00 UTC.'];
    if (totals.estimated_tokens > 0) {
      notes.push(
        'Some Mistral input tokens are estimated (characters / 4 of the text sent, where a response reported no usage), so those Mistral costs are approximate.',
      );
    }
    return {
      month,
      budget: this.status(month),
      totals: rounded(totals),
      by_developer: groupBy(rows, (r) => ({ developer: r.developer })),
      by_developer_day: groupBy(rows, (r) => ({ day: r.day, developer: r.developer })),
      by_model: groupBy(rows, (r) => ({ provider: r.provider, model: r.model })),
      rows: rows.map(rounded),
      notes,
    };
  }

  close(): void {
    this.store.close();
  }
}

export function usageFile(config: Config): string {
  return path.join(config.paths.data, USAGE_FILE);
}

export function openUsageMeter(config: Config, logger?: UsageLogger): UsageMeter {
  return new UsageMeter(new UsageStore(usageFile(config)), new Pricing(config.settings.pricing), config.settings.budget, logger);
}

/** The indexer's budget check: only a paid embedder pauses; local and TEI cost nothing per token. */
export function paidIndexingCheck(config: Config, meter: UsageMeter): (() => void) | undefined {
  const provider = config.settings.embeddings.provider;
  return provider === 'mistral' ? () => meter.assertCanIndex(provider) : undefined;
}
