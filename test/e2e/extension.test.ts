/**
 * The extension end to end, in `npm test`: a real AI Library server, code-server
 * (VS Code 1.139) and Chromium. Needs the tools of `bash scripts/install-e2e.sh`;
 * without them every test here fails with that instruction (never a silent pass).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, FAKE_ANTHROPIC_KEY, WORKSPACE_NAME, buildSuite, e2eSession, runExtensionHostSuite, stepFailed, type E2EEnv } from './harness.js';
import { UI_QUESTION, askInChat, indexAndFindInTree, openWorkbench, similarScenario, workbenchSmoke } from './ui.e2e.js';

describe('VS Code extension end to end (code-server + Chromium)', () => {
  /** The workbench page the UI tests share (one load, ~10 s, for all of them): `session.page`. */
  const session = e2eSession();

  const step = (name: string, fn: (e: E2EEnv) => Promise<void>, timeoutMs = 120_000) =>
    it(
      name,
      async () => {
        const { env } = session;
        if (!env) throw new Error('the e2e setup failed (see the error above)');
        try {
          await fn(env);
        } catch (err) {
          await stepFailed(session, 'failed-', name);
          throw err;
        }
      },
      timeoutMs,
    );

  step('passes the vscode-API suites inside the extension host', async (e) => {
    const extensionDir = e.extensionDir;
    if (!extensionDir) throw new Error('no extension installed');
    const suiteDir = path.join(e.runDir, 'suite');
    const indexJs = await buildSuite(suiteDir, {
      extensionId: EXTENSION_ID,
      workspace: e.workspace,
      workspaceName: WORKSPACE_NAME,
      serverUrl: e.server.url,
      anthropicKey: FAKE_ANTHROPIC_KEY,
    });
    const before = e.anthropicFake.requests.length;
    const run = await runExtensionHostSuite({
      context: e.browser.context,
      codeServer: e.codeServer,
      workspace: e.workspace,
      extensionDevelopmentPath: extensionDir,
      suiteIndexJs: indexJs,
    });
    const summary = run.results
      ? [
          ...run.results.passed.map((n) => `  ✓ ${n}`),
          ...run.results.skipped.map((s) => `  - ${s.name} (skipped: ${s.reason})`),
          ...run.results.failed.map((f) => `  ✗ ${f.name}\n${f.error}`),
        ].join('\n')
      : '(no results.json: the suite did not run to the end)';
    console.log(`extension-host suite (exit ${run.exitCode}):\n${summary}`);
    if (run.exitCode !== 0) console.log(`extension-host log:\n${run.log.slice(-6000)}`);
    expect(run.results?.failed ?? [], summary).toEqual([]);
    expect(run.exitCode, run.log.slice(-3000)).toBe(0);
    // The Claude answer came from the fake, with the developer's key from SecretStorage.
    const calls = e.anthropicFake.requests.slice(before);
    expect(calls.length).toBeGreaterThan(0);
    // The SDK sends an API key as x-api-key or, in newer versions, as a bearer token.
    const credentials = calls.map((r) => String(r.headers['x-api-key'] ?? r.headers.authorization ?? '(none)').replace(/^Bearer /, ''));
    expect(credentials).toEqual(calls.map(() => FAKE_ANTHROPIC_KEY));
    expect(calls.some((r) => r.body.stream === true)).toBe(true);
  });

  step('UI: the workbench loads, with the AI Library entry in the activity bar', async (e) => {
    expect(e.extensionDir, 'package.json has no "main": nothing to install').not.toBeNull();
    session.page = await openWorkbench(e);
    await workbenchSmoke(session.page);
  });

  step('UI: Index This File from the palette, then the file in the Library tree', async (e) => {
    const { page } = session;
    if (!page) throw new Error('the workbench did not load');
    const notification = await indexAndFindInTree(page, e, 'src/rate_limiter.py');
    expect(notification).toMatch(/(indexed|unchanged) src\/rate_limiter\.py/);
  });

  step('UI: types a question into the chat, sees the streamed answer and opens its source', async (e) => {
    const { page } = session;
    if (!page) throw new Error('the workbench did not load');
    const before = e.anthropicFake.requests.length;
    const result = await askInChat(page, { key: FAKE_ANTHROPIC_KEY, question: UI_QUESTION, sourceName: 'rate_limiter.py' });
    expect(result.answer).toMatch(/^\s*According to the library/);
    expect(result.sawStreaming, 'the turn never showed its streaming state').toBe(true);
    // A question after earlier turns is first condensed by a call that carries no search results
    // (server/answers/follow-up.ts); whether the panel still holds earlier turns depends on the steps before.
    const answers = e.anthropicFake.requests.slice(before).filter((c) => e.anthropicFake.searchResults(c).length > 0);
    expect(answers.length).toBe(1);
    expect(JSON.stringify(answers[0]?.body.messages)).toContain(UI_QUESTION);

    // Asked again, the answer streams into a new turn below the first, which stays as it was:
    // the test reads the new turn, never the earlier answer that already matches.
    const again = await askInChat(page, { key: FAKE_ANTHROPIC_KEY, question: UI_QUESTION, sourceName: 'rate_limiter.py' });
    expect(again.turnIndex).toBe(result.turnIndex + 1);
    expect(again.answer).toMatch(/^\s*According to the library/);
    expect(again.sawStreaming, 'the second turn never showed its streaming state').toBe(true);
  });

  step('UI: Find Similar to Selection shows the results picker', async () => {
    const { page } = session;
    if (!page) throw new Error('the workbench did not load');
    const labels = await similarScenario(page);
    // The rate-limit paragraph of the runbook is most like the rate limiter indexed earlier.
    expect(labels.slice(0, 3).join('\n')).toContain(`contributed/${WORKSPACE_NAME}/src/rate_limiter.py`);
  });
});
