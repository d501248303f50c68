import type { Command } from 'commander';
import { isMonth, monthOf, openUsageMeter, type BudgetStatus, type UsageReport } from '../usage/usage-meter.js';
import { withConfig } from './migrate-command.js';

function money(n: number): string {
  // Sub-cent amounts are the norm for embeddings; two decimals would show them as $0.00.
  return n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function describeBudget(b: BudgetStatus): string {
  if (b.state === 'unlimited') return `budget: unlimited (budget.monthly_usd is 0); ${money(b.spent_usd)} spent in ${b.month}`;
  const state =
    b.state === 'exhausted'
      ? `EXHAUSTED: answers are extractive and paid indexing is paused until ${b.resets_on}`
      : b.state === 'warning'
        ? `WARNING: at or above ${b.warn_percent} %`
        : 'ok';
  return `budget: ${money(b.spent_usd)} of ${money(b.monthly_usd)} (${b.percent ?? 0} %) spent in ${b.month}; ${state}`;
}

/** The report as a terminal table: one line per day, developer and model, then totals per developer and model. */
export function formatUsageReport(r: UsageReport): string {
  const out: string[] = [`AI Library usage for ${r.month} (UTC)`, ''];
  if (r.rows.length === 0) {
    out.push('no paid tokens recorded this month');
  } else {
    const right = new Set([4, 5, 6, 7, 8, 9]);
    out.push(
      ...table(
        ['day', 'developer', 'provider', 'model', 'calls', 'input', 'output', 'cache read', 'cache write', 'cost'],
        r.rows.map((x) => [
          x.day,
          x.developer,
          x.provider,
          x.model,
          count(x.requests),
          `${count(x.input_tokens)}${x.estimated_tokens > 0 ? '*' : ''}`,
          count(x.output_tokens),
          count(x.cache_read_tokens),
          count(x.cache_write_tokens),
          money(x.cost_usd),
        ]),
        right,
      ),
    );
    out.push('', ...table(['developer', 'calls', 'cost'], r.by_developer.map((d) => [d.developer, count(d.requests), money(d.cost_usd)]), new Set([1, 2])));
    out.push('', ...table(['provider', 'model', 'calls', 'cost'], r.by_model.map((m) => [m.provider, m.model, count(m.requests), money(m.cost_usd)]), new Set([2, 3])));
    out.push('', `total: ${money(r.totals.cost_usd)} for ${count(r.totals.requests)} calls`);
  }
  out.push(describeBudget(r.budget));
  if (r.totals.estimated_tokens > 0) out.push('* estimated input tokens');
  for (const note of r.notes) out.push(`note: ${note}`);
  return out.join('\n');
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('paid tokens (Mistral, Claude) and their cost per developer and day, and the monthly budget')
    .option('--month <YYYY-MM>', 'which month (UTC; default: this month)')
    .option('--json', 'print the report as JSON (the same as GET /api/admin/usage)')
    .action(async (opts: { month?: string; json?: boolean }) => {
      const month = opts.month ?? monthOf(new Date());
      if (!isMonth(month)) {
        console.error(`ai-library: usage: --month "${month}" is not a month; use YYYY-MM, e.g. ${monthOf(new Date())}`);
        process.exitCode = 1;
        return;
      }
      process.exitCode = await withConfig(async (config) => {
        const meter = openUsageMeter(config);
        try {
          const report = meter.report(month);
          console.log(opts.json ? JSON.stringify(report, null, 2) : formatUsageReport(report));
          return 0;
        } finally {
          meter.close();
        }
      });
    });
}
