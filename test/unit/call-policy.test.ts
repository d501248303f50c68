import { describe, expect, it } from 'vitest';
import { CallPolicy } from '../../server/reliability/call-policy.js';
import { ProviderUnavailableError, type CallOutcome } from '../../server/reliability/circuit-breaker.js';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

class Busy extends Error {
  constructor(readonly waitMs: number | null = null) {
    super('busy, try again');
  }
}
class Refused extends Error {}

/** Busy is worth a retry (and may name a wait); Refused is not, and proves the dependency is up. */
const classify = (e: unknown): CallOutcome => (e instanceof Refused ? 'success' : 'failure');
const RETRY = {
  retries: 3,
  minDelayMs: 1,
  maxDelayMs: 2,
  retryable: (e: unknown) => e instanceof Busy,
  retryAfterMs: (e: unknown) => (e instanceof Busy ? e.waitMs : null),
};

/** An attempt that throws the given errors in turn, then answers "ok"; counts its calls. */
function script(...errors: Error[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    attempt: async () => {
      const e = errors[calls++];
      if (e) throw e;
      return 'ok';
    },
  };
}

describe('CallPolicy: retries', () => {
  it('retries a retryable failure until it succeeds, counting each failed attempt on the breaker', async () => {
    const policy = new CallPolicy({ name: 'Mistral embeddings', classify, retry: RETRY, breaker: { failureThreshold: 10 } });
    const s = script(new Busy(), new Busy());
    await expect(policy.run(s.attempt)).resolves.toBe('ok');
    expect(s.calls).toBe(3);
    // The success closed the breaker again.
    expect(policy.breaker.snapshot().consecutive_failures).toBe(0);
  });

  it('does not retry what is not retryable, and gives up after `retries` retries', async () => {
    const policy = new CallPolicy({ name: 'Mistral embeddings', classify, retry: RETRY, breaker: { failureThreshold: 10 } });
    const refused = script(new Refused('401 bad key'));
    await expect(policy.run(refused.attempt)).rejects.toThrow('401 bad key');
    expect(refused.calls).toBe(1);
    const down = script(new Busy(), new Busy(), new Busy(), new Busy(), new Busy());
    await expect(policy.run(down.attempt)).rejects.toBeInstanceOf(Busy);
    expect(down.calls).toBe(4);
    expect(policy.breaker.snapshot().consecutive_failures).toBe(4);
  });

  it('waits what the dependency asked for (Retry-After) instead of its backoff', async () => {
    const policy = new CallPolicy({ name: 'TEI embeddings', classify, retry: { ...RETRY, minDelayMs: 5_000, maxDelayMs: 5_000 } });
    const s = script(new Busy(60));
    const started = performance.now();
    await expect(policy.run(s.attempt)).resolves.toBe('ok');
    const took = performance.now() - started;
    expect(s.calls).toBe(2);
    // 60 ms plus at most 10% jitter, far below the 5 s backoff it replaced.
    expect(took).toBeGreaterThanOrEqual(55);
    expect(took).toBeLessThan(2_000);
  });

  it('without a retry rule makes exactly one attempt', async () => {
    const policy = new CallPolicy({ name: 'Qdrant vector store' });
    const s = script(new Busy());
    await expect(policy.run(s.attempt)).rejects.toBeInstanceOf(Busy);
    expect(s.calls).toBe(1);
  });
});

describe('CallPolicy: breaker', () => {
  it('opens after the threshold, fails fast without calling, and stops retries at once', async () => {
    const c = clock();
    const policy = new CallPolicy({ name: 'Mistral embeddings', classify, retry: RETRY, breaker: { failureThreshold: 2, cooldownMs: 10_000 }, now: c.now });
    const s = script(new Busy(), new Busy(), new Busy(), new Busy());
    // Two failed attempts open the circuit; the third attempt is refused by it, not retried.
    await expect(policy.run(s.attempt)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(s.calls).toBe(2);
    expect(policy.breaker.state).toBe('open');
    const later = script();
    await expect(policy.run(later.attempt)).rejects.toThrow(/Mistral embeddings unavailable \(circuit open after 2 failures/);
    expect(later.calls).toBe(0);
  });

  it('half-opens after the cool-down: one trial goes through, and its success closes the circuit', async () => {
    const c = clock();
    const policy = new CallPolicy({ name: 'Qdrant vector store', breaker: { failureThreshold: 1, cooldownMs: 5_000 }, now: c.now });
    await expect(policy.run(script(new Error('ECONNREFUSED')).attempt)).rejects.toThrow('ECONNREFUSED');
    expect(policy.breaker.state).toBe('open');
    c.advance(5_000);
    expect(policy.breaker.state).toBe('half_open');
    let finish: (v: string) => void = () => undefined;
    const trial = policy.run(() => new Promise<string>((r) => (finish = r)));
    await expect(policy.run(script().attempt)).rejects.toThrow(/half-open after 1 failure; a trial request/);
    finish('back');
    await expect(trial).resolves.toBe('back');
    expect(policy.breaker.state).toBe('closed');
  });

  it('judges errors by `classify`: an answer that proves the dependency is up does not count', async () => {
    const policy = new CallPolicy({ name: 'Qdrant vector store', classify, breaker: { failureThreshold: 1 } });
    await expect(policy.run(script(new Refused('400 bad filter')).attempt)).rejects.toThrow('400 bad filter');
    expect(policy.breaker.state).toBe('closed');
  });
});

describe('CallPolicy: concurrency', () => {
  it('runs at most `concurrency` calls at once and queues the rest in order', async () => {
    const policy = new CallPolicy({ name: 'Qdrant vector store', concurrency: 2 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const call = (i: number) =>
      policy.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return i;
      });
    const all = Promise.all([0, 1, 2, 3, 4].map(call));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([0, 1]);
    while (order.length < 5 || gates.length > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    await expect(all).resolves.toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('CallPolicy: permits for streams', () => {
  it('counts only the first verdict, so a release in `finally` cannot undo a failure', () => {
    const policy = new CallPolicy({ name: 'Claude', breaker: { failureThreshold: 1 } });
    const permit = policy.admit();
    permit.failed(new Error('overloaded'));
    permit.release();
    permit.succeeded();
    expect(policy.breaker.state).toBe('open');
    expect(() => policy.admit()).toThrow(ProviderUnavailableError);
  });

  it('frees a half-open trial slot on release', () => {
    const c = clock();
    const policy = new CallPolicy({ name: 'Claude', breaker: { failureThreshold: 1, cooldownMs: 1_000 }, now: c.now });
    policy.admit().failed(new Error('connection reset'));
    c.advance(1_000);
    const trial = policy.admit();
    expect(() => policy.admit()).toThrow(/a trial request/);
    trial.release();
    policy.admit().succeeded();
    expect(policy.breaker.state).toBe('closed');
  });

  it('is refused by a bounded policy, which admit() would bypass', () => {
    expect(() => new CallPolicy({ name: 'Qdrant vector store', concurrency: 4 }).admit()).toThrow(/use run\(\)/);
  });
});
