import { describe, expect, it } from 'vitest';
import { CircuitBreaker, ProviderUnavailableError, type CallOutcome } from '../../server/reliability/circuit-breaker.js';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const boom = (msg = 'Cannot reach Mistral at https://api.mistral.ai: ECONNREFUSED') => () => Promise.reject(new Error(msg));
const ok = () => Promise.resolve('ok');

async function failTimes(b: CircuitBreaker, n: number, call = boom()): Promise<void> {
  for (let i = 0; i < n; i++) await expect(b.run(call)).rejects.toThrow();
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', async () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'Mistral embeddings', failureThreshold: 3, cooldownMs: 30_000, now: c.now });
    await failTimes(b, 2);
    expect(b.state).toBe('closed');
    await expect(b.run(ok)).resolves.toBe('ok');
    await failTimes(b, 2);
    expect(b.state).toBe('closed');
    expect(b.snapshot().consecutive_failures).toBe(2);
  });

  it('opens after N consecutive failures and then fails fast with the reason, the wait and the last error', async () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'Mistral embeddings', failureThreshold: 5, cooldownMs: 30_000, now: c.now });
    await failTimes(b, 5);
    expect(b.state).toBe('open');
    c.advance(2_000);
    let calls = 0;
    const err = await b
      .run(async () => {
        calls++;
        return 'never';
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(0);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toBe(
      'Mistral embeddings unavailable (circuit open after 5 failures; retrying in 28 s): Cannot reach Mistral at https://api.mistral.ai: ECONNREFUSED',
    );
    expect((err as ProviderUnavailableError).retryAfterMs).toBe(28_000);
    expect(b.snapshot()).toMatchObject({ state: 'open', consecutive_failures: 5, retry_in_ms: 28_000 });
  });

  it('goes half-open after the cool-down and lets exactly one trial through; success closes it', async () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'TEI embeddings', failureThreshold: 2, cooldownMs: 10_000, now: c.now });
    await failTimes(b, 2);
    c.advance(10_000);
    expect(b.state).toBe('half_open');
    let release: (v: string) => void = () => undefined;
    const trial = b.run(() => new Promise<string>((r) => (release = r)));
    // A second caller during the trial fails fast instead of piling on.
    await expect(b.run(ok)).rejects.toThrow(/TEI embeddings unavailable \(circuit half-open after 2 failures; a trial request/);
    release('back');
    await expect(trial).resolves.toBe('back');
    expect(b.state).toBe('closed');
    expect(b.snapshot()).toMatchObject({ consecutive_failures: 0, last_error: null });
    await expect(b.run(ok)).resolves.toBe('ok');
  });

  it('re-opens for a fresh cool-down when the half-open trial fails', async () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'Qdrant vector store', failureThreshold: 2, cooldownMs: 10_000, now: c.now });
    await failTimes(b, 2);
    c.advance(10_000);
    await expect(b.run(boom('still down'))).rejects.toThrow('still down');
    expect(b.state).toBe('open');
    c.advance(9_999);
    await expect(b.run(ok)).rejects.toThrow(/Qdrant vector store unavailable \(circuit open after 3 failures; retrying in 1 s\): still down/);
    c.advance(1);
    await expect(b.run(ok)).resolves.toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('does not push the retry time back for calls that were already in flight when it opened', async () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'Claude', failureThreshold: 1, cooldownMs: 10_000, now: c.now });
    let failLate: (e: Error) => void = () => undefined;
    const late = b.run(() => new Promise<string>((_r, reject) => (failLate = reject)));
    await failTimes(b, 1);
    c.advance(6_000);
    failLate(new Error('late failure'));
    await expect(late).rejects.toThrow('late failure');
    expect(b.snapshot().retry_in_ms).toBe(4_000);
  });

  it('classifies errors: "success" errors prove the provider answered, "neutral" ones change nothing', async () => {
    const c = clock();
    const classify = (e: unknown): CallOutcome => {
      const m = e instanceof Error ? e.message : '';
      if (m.startsWith('400')) return 'success';
      if (m.startsWith('429')) return 'neutral';
      return 'failure';
    };
    const b = new CircuitBreaker({ name: 'Mistral embeddings', failureThreshold: 3, cooldownMs: 1_000, now: c.now, classify });
    await failTimes(b, 2);
    await failTimes(b, 5, boom('429 busy'));
    expect(b.snapshot().consecutive_failures).toBe(2);
    await failTimes(b, 1, boom('400 bad input'));
    expect(b.snapshot().consecutive_failures).toBe(0);
    expect(b.state).toBe('closed');
  });

  it('frees a half-open trial whose caller vanished, after a cool-down', () => {
    const c = clock();
    const b = new CircuitBreaker({ name: 'Claude', failureThreshold: 1, cooldownMs: 5_000, now: c.now });
    b.onFailure(new Error('down'));
    c.advance(5_000);
    b.acquire();
    expect(() => b.acquire()).toThrow(ProviderUnavailableError);
    c.advance(5_000);
    expect(() => b.acquire()).not.toThrow();
    b.release();
    expect(() => b.acquire()).not.toThrow();
  });

  it('keeps the last error to one bounded line', async () => {
    const b = new CircuitBreaker({ name: 'Claude', failureThreshold: 1, cooldownMs: 5_000 });
    await failTimes(b, 1, boom(`line one\n  line two ${'x'.repeat(1000)}`));
    const last = b.snapshot().last_error ?? '';
    expect(last).not.toContain('\n');
    expect(last.startsWith('line one line two')).toBe(true);
    expect(last.length).toBeLessThanOrEqual(301);
  });
});
