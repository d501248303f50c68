/**
 * A tiny mocha-like runner for the extension host (mocha is not a dependency):
 * runs async tests in order, each with a timeout, reports through the console and
 * results.json, and rejects when any test failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SuiteResults } from '../harness.js';

export interface TestCase<C> {
  name: string;
  timeoutMs?: number;
  fn: (ctx: C) => Promise<void>;
}

/** Thrown by a test that cannot run here (e.g. a hook the extension does not expose); reported, not failed. */
export class SkipTest extends Error {
  override name = 'SkipTest';
}

export async function runTests<C>(tests: ReadonlyArray<TestCase<C>>, ctx: C, resultsFile: string | null): Promise<SuiteResults> {
  const t0 = Date.now();
  const results: SuiteResults = { passed: [], failed: [], skipped: [], ms: 0 };
  for (const t of tests) {
    const start = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        t.fn(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs ?? 20_000} ms`)), t.timeoutMs ?? 20_000);
        }),
      ]);
      results.passed.push(t.name);
      console.log(`  ✓ ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      if (err instanceof SkipTest) {
        results.skipped.push({ name: t.name, reason: err.message });
        console.log(`  - ${t.name} (skipped: ${err.message})`);
      } else {
        const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
        results.failed.push({ name: t.name, error: msg });
        console.error(`  ✗ ${t.name}\n${msg}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
  results.ms = Date.now() - t0;
  console.log(`${results.passed.length} passed, ${results.failed.length} failed, ${results.skipped.length} skipped`);
  if (resultsFile) {
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2));
  }
  return results;
}
