/**
 * The same tests for @vscode/test-cli (mocha, `ui: 'tdd'` or 'bdd') on a desktop
 * VS Code: .vscode-test.mjs lists the bundled mocha.cjs as its test file.
 */
import { setupContext } from './index.js';
import { SkipTest } from './runner.js';
import { tests, type Ctx } from './tests.js';

type Fn = (this: { timeout(ms: number): void; skip(): never }, done?: unknown) => unknown;
type Define = (name: string, fn: Fn) => void;
const g = globalThis as unknown as { suite?: Define; describe?: Define; test?: Define; it?: Define; suiteSetup?: (fn: Fn) => void; before?: (fn: Fn) => void };
const defineSuite = g.suite ?? g.describe;
const defineTest = g.test ?? g.it;
const setup = g.suiteSetup ?? g.before;
if (!defineSuite || !defineTest || !setup) throw new Error('mocha.cjs must be loaded by mocha (suite/test or describe/it globals)');

defineSuite('AI Library extension', function () {
  let ctx: Ctx | undefined;
  setup(async function () {
    this.timeout(60_000);
    ctx = await setupContext();
  });
  for (const t of tests) {
    defineTest(t.name, async function () {
      this.timeout(t.timeoutMs ?? 20_000);
      if (!ctx) throw new Error('the suite setup failed');
      try {
        await t.fn(ctx);
      } catch (err) {
        if (err instanceof SkipTest) this.skip();
        throw err;
      }
    });
  }
});
