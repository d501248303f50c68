import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { AskResponse, ErrorBody, IndexResponse } from '../../shared/api-types.js';
import { formatUsageReport } from '../../server/cli/usage-command.js';
import type { Env } from '../../server/config/settings.js';
import { DEFAULT_FALLBACK_PRICE, Pricing, costOf } from '../../server/usage/pricing.js';
import type { UsageReport } from '../../server/usage/usage-meter.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { MistralFake, billedTokens } from '../fakes/mistral-fake.js';
import { REPO_ROOT, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const MISTRAL_KEY = 'sk-mistral-usage-test-8f2d61';
const ANTHROPIC_KEY = 'sk-ant-usage-test-KEY-3c9e0a';

/** Prices of this test, not the shipped ones: the arithmetic below must not move when list prices do. */
const PRICES = {
  'mistral-embed': { input: 1.0 },
  'claude-sonnet-5-5': { input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75 },
};
const BUDGET_USD = 2;

const DOCS: Record<string, string> = {
  'security/tokens.md': '# Server tokens\n\nEvery developer gets a personal server token. Rotate server tokens every ninety days.\n',
  'operations/backups.md': '# Backups\n\nRun npm run backup nightly; archives are kept for seven days.\n',
};

/** A configs folder with this test's prices (settings.yaml otherwise as shipped). */
function configsWithPrices(env: TempEnv): string {
  const dir = path.join(env.root, 'configs');
  cpSync(path.join(REPO_ROOT, 'configs'), dir, { recursive: true });
  const file = path.join(dir, 'settings.yaml');
  const settings: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (typeof settings !== 'object' || settings === null) throw new Error('settings.yaml is not a mapping');
  Reflect.set(settings, 'pricing', { models: PRICES });
  writeFileSync(file, stringifyYaml(settings));
  return dir;
}

type Harness = RunningServer;

/** The real app with its log captured: budget warnings and leaked keys are checked there. */
const startHarness = (env: Env, root: string): Promise<Harness> => startServer(env, root, undefined, 'debug');

async function call<T>(h: Harness, method: string, route: string, token: string | null, body?: unknown): Promise<{ status: number; json: T & ErrorBody }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${h.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as T & ErrorBody };
}

/** Tokens Mistral reported for the embedding requests made while `work` ran (the fake answers prompt_tokens = Σ ceil(chars/4)). */
async function mistralTokensDuring(fake: MistralFake, work: () => Promise<unknown>): Promise<number> {
  const before = fake.embeddingRequests.length;
  await work();
  return fake.embeddingRequests.slice(before).reduce((n, r) => n + r.inputs.reduce((m, t) => m + billedTokens(t), 0), 0);
}

const day1 = new Date('2026-07-14T09:30:00Z');
const day2 = new Date('2026-07-15T16:00:00Z');

describe('usage and budget through the fake Mistral and Anthropic servers', () => {
  let mistral: MistralFake;
  let anthropic: AnthropicFake;
  let env: TempEnv;
  let h: Harness;
  const tokens = { alice: '', bob: '', ops: '' };
  const expected = { aliceMistral: 0, bobMistral: 0, bobMistralDay2: 0 };

  beforeAll(async () => {
    mistral = await MistralFake.create(MISTRAL_KEY);
    anthropic = await startAnthropicFake();
    env = tempEnv(DOCS);
    env.env = {
      ...env.env,
      CONFIG_DIR: configsWithPrices(env),
      EMBEDDINGS_PROVIDER: 'mistral',
      MISTRAL_SERVER_URL: mistral.url,
      MISTRAL_API_KEY: MISTRAL_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      BUDGET_MONTHLY_USD: String(BUDGET_USD),
    };
    h = await startHarness(env.env, env.root);
    h.services.usage.now = () => day1;
    tokens.alice = h.services.tokens.create('alice').token;
    tokens.bob = h.services.tokens.create('bob').token;
    tokens.ops = h.services.tokens.create('ops', { admin: true }).token;
    // Outside any request: charged to the process ("server").
    const indexed = await h.services.indexer.indexAll();
    expect(indexed.summary.indexed).toBe(2);
  });

  afterAll(async () => {
    await h?.close();
    await mistral?.close();
    await anthropic?.close();
    env?.cleanup();
  });

  it('adds up Mistral and Claude tokens per developer and day, priced from settings', async () => {
    expected.aliceMistral = await mistralTokensDuring(mistral, async () => {
      const up = await call<IndexResponse>(h, 'POST', '/api/library/index', tokens.alice, {
        file_path: 'notes/rotation.md',
        content: '# Rotation\n\nRotate the Mistral key every quarter and record who rotated it.\n',
        workspace: 'alice',
      });
      expect(up.status).toBe(200);
      expect(up.json.summary.indexed).toBe(1);
      anthropic.enqueue({ kind: 'answer', deltas: ['Every ninety days.'], usage: { input_tokens: 100_000, output_tokens: 20_000, cache_read_input_tokens: 50_000 } });
      const asked = await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.alice, { question: 'How often are server tokens rotated?' });
      expect(asked.status).toBe(200);
      expect(asked.json.mode).toBe('claude');
    });
    expected.bobMistral = await mistralTokensDuring(mistral, async () => {
      const found = await call<unknown>(h, 'POST', '/api/query/search', tokens.bob, { query: 'nightly backup archives' });
      expect(found.status).toBe(200);
    });
    h.services.usage.now = () => day2;
    expected.bobMistralDay2 = await mistralTokensDuring(mistral, async () => {
      anthropic.enqueue({ kind: 'answer', deltas: ['Seven days.'], usage: { input_tokens: 60_000, output_tokens: 4_000 } });
      const asked = await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.bob, { question: 'How long are backup archives kept?' });
      expect(asked.json.mode).toBe('claude');
    });
    expect(expected.aliceMistral).toBeGreaterThan(0);
    expect(expected.bobMistral).toBeGreaterThan(0);

    const forbidden = await call<unknown>(h, 'GET', '/api/admin/usage?month=2026-07', tokens.bob);
    expect(forbidden.status).toBe(403);
    const { status, json: report } = await call<UsageReport>(h, 'GET', '/api/admin/usage?month=2026-07', tokens.ops);
    expect(status).toBe(200);
    const row = (day: string, developer: string, model: string) => report.rows.find((r) => r.day === day && r.developer === developer && r.model === model);

    const aliceClaude = (100_000 * 3 + 20_000 * 15 + 50_000 * 0.3) / 1e6;
    const bobClaude = (60_000 * 3 + 4_000 * 15) / 1e6;
    expect(row('2026-07-14', 'alice', 'claude-sonnet-5-5')).toMatchObject({
      provider: 'anthropic',
      requests: 1,
      input_tokens: 100_000,
      output_tokens: 20_000,
      cache_read_tokens: 50_000,
      cache_write_tokens: 0,
      estimated_tokens: 0,
    });
    expect(row('2026-07-14', 'alice', 'claude-sonnet-5-5')?.cost_usd).toBeCloseTo(aliceClaude, 9);
    // Mistral: what the fake reported as prompt_tokens, priced at $1 per million; counted, not estimated.
    expect(row('2026-07-14', 'alice', 'mistral-embed')).toMatchObject({ provider: 'mistral', input_tokens: expected.aliceMistral, estimated_tokens: 0 });
    expect(row('2026-07-14', 'alice', 'mistral-embed')?.cost_usd).toBeCloseTo(expected.aliceMistral / 1e6, 9);
    expect(row('2026-07-14', 'bob', 'mistral-embed')?.input_tokens).toBe(expected.bobMistral);
    expect(row('2026-07-14', 'bob', 'claude-sonnet-5-5')).toBeUndefined();
    expect(row('2026-07-15', 'bob', 'claude-sonnet-5-5')).toMatchObject({ input_tokens: 60_000, output_tokens: 4_000 });
    expect(row('2026-07-15', 'bob', 'claude-sonnet-5-5')?.cost_usd).toBeCloseTo(bobClaude, 9);
    expect(row('2026-07-15', 'bob', 'mistral-embed')?.input_tokens).toBe(expected.bobMistralDay2);
    // Startup indexing and the taxonomy centroids ran outside any request.
    expect(row('2026-07-14', 'server', 'mistral-embed')?.input_tokens).toBeGreaterThan(0);

    const perDay = (day: string, developer: string) => report.by_developer_day.find((d) => d.day === day && d.developer === developer);
    expect(perDay('2026-07-14', 'alice')?.cost_usd).toBeCloseTo(aliceClaude + expected.aliceMistral / 1e6, 6);
    expect(perDay('2026-07-15', 'bob')?.cost_usd).toBeCloseTo(bobClaude + expected.bobMistralDay2 / 1e6, 6);
    const bobTotal = report.by_developer.find((d) => d.developer === 'bob');
    expect(bobTotal?.cost_usd).toBeCloseTo(bobClaude + (expected.bobMistral + expected.bobMistralDay2) / 1e6, 6);
    const sum = report.rows.reduce((n, r) => n + r.cost_usd, 0);
    expect(report.totals.cost_usd).toBeCloseTo(sum, 6);
    expect(report.by_model.map((m) => `${m.provider}/${m.model}`).sort()).toEqual(['anthropic/claude-sonnet-5-5', 'mistral/mistral-embed']);
    expect(report.budget).toMatchObject({ month: '2026-07', monthly_usd: BUDGET_USD, state: 'ok', warning: false, exhausted: false, resets_on: '2026-08-01' });
    expect(report.budget.spent_usd).toBeCloseTo(sum, 6);
    expect(report.notes.join(' ')).not.toMatch(/estimated/);
    // One price table for everyone: the settings' prices are what costOf gives.
    expect(costOf('claude-sonnet-5-5', { input_tokens: 100_000, output_tokens: 20_000, cache_read_input_tokens: 50_000 }, new Pricing({ models: PRICES }))).toBeCloseTo(aliceClaude, 12);

    // The same report as `npm run usage` prints it.
    const table = formatUsageReport(report);
    expect(table).toContain('AI Library usage for 2026-07 (UTC)');
    expect(table).toMatch(/2026-07-15\s+bob\s+anthropic\s+claude-sonnet-5-5\s+1\s+60,000\s+4,000/);
    expect(table).toMatch(/budget: \$\d\.\d+ of \$2\.00 \(\d+(\.\d)? %\) spent in 2026-07; ok/);
    expect(table).not.toContain('* estimated input tokens');

    const bad = await call<unknown>(h, 'GET', '/api/admin/usage?month=2026-13', tokens.ops);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('use YYYY-MM');
  });

  it('flags and logs the budget once spending passes 80 %, and keeps answering with Claude', async () => {
    const before = (await call<UsageReport>(h, 'GET', '/api/admin/usage', tokens.ops)).json.budget.spent_usd;
    // Enough to land between 80 % and 100 % of $2: 0.6 + 0.3 = $0.90 more.
    anthropic.enqueue({ kind: 'answer', deltas: ['Ninety days.'], usage: { input_tokens: 200_000, output_tokens: 20_000 } });
    const asked = await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.alice, { question: 'How often are server tokens rotated?' });
    expect(asked.json.mode).toBe('claude');
    const { json } = await call<UsageReport>(h, 'GET', '/api/admin/usage', tokens.ops);
    expect(json.month).toBe('2026-07');
    expect(json.budget.spent_usd).toBeGreaterThan(before);
    expect(json.budget).toMatchObject({ state: 'warning', warning: true, exhausted: false, warn_percent: 80 });
    expect(json.budget.percent).toBeGreaterThanOrEqual(80);
    expect(json.budget.percent).toBeLessThan(100);
    const warnings = h.logs.filter((l) => l.includes('of the monthly budget of $2.00 spent'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, month: '2026-07', monthly_usd: 2 });

    // Still below 100 %: the next question goes to Claude, and the warning is not repeated.
    anthropic.enqueue({ kind: 'answer', deltas: ['Yes.'], usage: { input_tokens: 1_000, output_tokens: 10 } });
    expect((await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.bob, { question: 'Are archives kept for seven days?' })).json.mode).toBe('claude');
    expect(h.logs.filter((l) => l.includes('of the monthly budget of $2.00 spent'))).toHaveLength(1);
  });

  it('at 100 %: answers turn extractive with the note, and Mistral-backed indexing is refused', async () => {
    // Crosses $2: this answer is delivered (the check is before the call), the next ones are not Claude's.
    anthropic.enqueue({ kind: 'answer', deltas: ['Ninety days.'], usage: { input_tokens: 200_000, output_tokens: 20_000 } });
    expect((await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.alice, { question: 'How often are server tokens rotated?' })).json.mode).toBe('claude');
    const { json: report } = await call<UsageReport>(h, 'GET', '/api/admin/usage', tokens.ops);
    expect(report.budget).toMatchObject({ state: 'exhausted', warning: true, exhausted: true, remaining_usd: 0 });
    expect(h.logs.some((l) => l.includes('monthly budget of $2.00 reached'))).toBe(true);

    const sentToClaude = anthropic.requests.length;
    const asked = await call<AskResponse>(h, 'POST', '/api/query/ask', tokens.bob, { question: 'How often are server tokens rotated?' });
    expect(asked.status).toBe(200);
    expect(asked.json.mode).toBe('extractive');
    expect(asked.json.usage).toBeNull();
    expect(asked.json.answer).toMatch(/^Extractive answer \(monthly budget of \$2\.00 reached; answers are extractive until 2026-08-01\)/);
    expect(asked.json.citations[0]?.file_path).toBe('security/tokens.md');
    expect(anthropic.requests.length).toBe(sentToClaude);

    const upload = await call<unknown>(h, 'POST', '/api/library/index', tokens.alice, {
      file_path: 'notes/refused.md',
      content: '# Refused\n\nThis upload arrives after the budget is spent.\n',
      workspace: 'alice',
    });
    expect(upload.status).toBe(503);
    expect(upload.json.error.code).toBe('budget_exhausted');
    expect(upload.json.error.message).toMatch(
      /^indexing is paused: the monthly budget of \$2\.00 is reached \(\$2\.\d\d spent\) and embeddings\.provider "mistral" is paid; it resumes on 2026-08-01/,
    );
    expect(existsSync(path.join(env.library, 'contributed/alice/notes/refused.md'))).toBe(false);
    const all = await call<unknown>(h, 'POST', '/api/library/index', tokens.ops, { all: true });
    expect(all.status).toBe(503);
    expect(all.json.error.code).toBe('budget_exhausted');
    // Also a queued job: refused now rather than accepted and failed later.
    const queued = await call<unknown>(h, 'POST', '/api/library/index', tokens.ops, { all: true, async: true });
    expect(queued.status).toBe(503);
    expect(queued.json.error.code).toBe('budget_exhausted');

    // A new month starts over.
    h.services.usage.now = () => new Date('2026-08-01T00:00:01Z');
    expect(h.services.usage.status().state).toBe('ok');
    expect(h.services.usage.pausedNote()).toBeNull();
    h.services.usage.now = () => day2;
    expect(h.logs.join('')).not.toContain(ANTHROPIC_KEY);
    expect(h.logs.join('')).not.toContain(MISTRAL_KEY);
  });

  it('never pauses the local embedder: a local server over budget still indexes', async () => {
    const local = tempEnv(DOCS);
    try {
      local.env = { ...local.env, CONFIG_DIR: configsWithPrices(local), BUDGET_MONTHLY_USD: String(BUDGET_USD) };
      const lh = await startHarness(local.env, local.root);
      try {
        lh.services.usage.record({ provider: 'anthropic', model: 'claude-sonnet-5-5', usage: { input_tokens: 1_000_000 }, developer: 'alice' });
        expect(lh.services.usage.status().exhausted).toBe(true);
        const res = await call<IndexResponse>(lh, 'POST', '/api/library/index', null, { all: true });
        expect(res.status).toBe(200);
        expect(res.json.summary.indexed).toBe(2);
        // Claude is still paused there: the budget is the server's, whatever the embedder.
        expect(lh.services.usage.pausedNote()).toMatch(/monthly budget of \$2\.00 reached/);
        // A model without a price is charged at the fallback (never free), with one warning naming it.
        lh.services.usage.record({ provider: 'anthropic', model: 'claude-next-gateway', usage: { input_tokens: 1_000 }, developer: 'bob' });
        lh.services.usage.record({ provider: 'anthropic', model: 'claude-next-gateway', usage: { input_tokens: 1_000 }, developer: 'bob' });
        const row = lh.services.usage.report().rows.find((r) => r.model === 'claude-next-gateway');
        expect(row?.cost_usd).toBeCloseTo((2 * 1_000 * DEFAULT_FALLBACK_PRICE.input) / 1e6, 9);
        expect(lh.logs.filter((l) => l.includes('no price for model \\"claude-next-gateway\\"'))).toHaveLength(1);
      } finally {
        await lh.close();
      }
    } finally {
      local.cleanup();
    }
  });

  it('prices dated ids by their model, unknown ones at the fallback, and lets settings override a price', () => {
    const list = new Pricing();
    expect(list.lookup('claude-sonnet-5-5-20261001').matched).toBe('claude-sonnet-5-5');
    expect(list.lookup('claude-haiku-4-5-20251001').matched).toBe('claude-haiku-4-5');
    expect(list.lookup('claude-sonnet-5').matched).toBe('claude-sonnet-5');
    expect(list.lookup('codestral-embed-2505').matched).toBe('codestral-embed');
    expect(list.lookup('some-gateway-alias')).toEqual({ price: DEFAULT_FALLBACK_PRICE, matched: null });
    expect(costOf('mistral-embed', { input_tokens: 1_000_000 })).toBeCloseTo(0.1, 12);
    expect(costOf('claude-sonnet-5-5', { input_tokens: 1_000_000, output_tokens: 1_000_000, cache_read_input_tokens: 1_000_000, cache_creation_input_tokens: 1_000_000 })).toBeCloseTo(
      2 + 10 + 0.2 + 2.5,
      9,
    );
    // Cache prices left out of a setting follow Anthropic's multipliers of the input price.
    const custom = new Pricing({ models: { 'claude-sonnet-5-5': { input: 1, output: 4 } }, fallback: { input: 20, output: 80 } });
    expect(custom.lookup('claude-sonnet-5-5').price).toEqual({ input: 1, output: 4, cache_read: 0.1, cache_write: 1.25 });
    expect(custom.costOf('unknown-model', { input_tokens: 1_000_000 })).toBeCloseTo(20, 9);
  });
});
