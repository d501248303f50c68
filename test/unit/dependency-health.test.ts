import { describe, expect, it } from 'vitest';
import type { Embedder } from '../../server/embedders/embedder.js';
import { CircuitBreaker } from '../../server/reliability/circuit-breaker.js';
import { DependencyProbes } from '../../server/reliability/dependency-health.js';
import { StoreUnavailableError, type VectorStore } from '../../server/stores/vector-store.js';

/** Only what the probes touch; the rest of the interface is never called. */
function fakeStore(count: () => Promise<number>, breaker?: CircuitBreaker): VectorStore {
  const partial: Pick<VectorStore, 'kind' | 'location' | 'count' | 'breaker'> = { kind: 'qdrant', location: 'http://qdrant:6333/collections/lib', count, breaker };
  return partial as unknown as VectorStore;
}

function fakeEmbedder(embed: () => Promise<Float32Array[]>, breaker?: CircuitBreaker): Embedder {
  return { id: 'tei:bge:384', dimension: 384, maxBatch: 32, embed, breaker };
}

const ok = () => Promise.resolve([new Float32Array(384)]);

describe('DependencyProbes', () => {
  it('reports a store that cannot count as down, with the reason, and its circuit', async () => {
    const breaker = new CircuitBreaker({ name: 'Qdrant vector store', failureThreshold: 1 });
    const store = fakeStore(() => breaker.run(() => Promise.reject(new StoreUnavailableError('Vector store unavailable: Connection refused (Qdrant at http://qdrant:6333)'))), breaker);
    const local: Embedder = { id: 'local-hash-v1:1024', dimension: 1024, maxBatch: 1024, embed: ok };
    const probes = new DependencyProbes({ store, embedder: local, llmBreaker: new CircuitBreaker({ name: 'Claude' }), llmConfigured: false, cacheMs: 0, timeoutMs: 1000 });
    const first = await probes.check();
    expect(first.store).toMatchObject({ status: 'down', circuit: 'open', detail: 'Vector store unavailable: Connection refused (Qdrant at http://qdrant:6333)' });
    const second = await probes.check();
    expect(second.store.detail).toMatch(/^Qdrant vector store unavailable \(circuit open after 1 failure; retrying in \d+ s\)/);
    expect(second.embedder).toMatchObject({ status: 'up', detail: 'local-hash-v1:1024 runs in-process' });
    expect(second.embedder.circuit).toBeUndefined();
    expect(second.llm).toMatchObject({ status: 'up', latency_ms: null, detail: expect.stringMatching(/^no server Anthropic key/) });
  });

  it('calls a probe that does not answer in time degraded, without waiting for it', async () => {
    const never = new Promise<Float32Array[]>(() => undefined);
    const probes = new DependencyProbes({
      store: fakeStore(() => Promise.resolve(7)),
      embedder: fakeEmbedder(() => never, new CircuitBreaker({ name: 'TEI embeddings' })),
      llmBreaker: new CircuitBreaker({ name: 'Claude' }),
      llmConfigured: true,
      cacheMs: 0,
      timeoutMs: 20,
    });
    const report = await probes.check();
    expect(report.embedder).toMatchObject({ status: 'degraded', circuit: 'closed', detail: expect.stringMatching(/did not embed one word within 20 ms/) });
    expect(report.store.status).toBe('up');
    expect(probes.points).toBe(7);
  });

  it('reuses an answer within cacheMs and shares a probe in flight', async () => {
    let calls = 0;
    let t = 0;
    const probes = new DependencyProbes({
      store: fakeStore(async () => {
        calls++;
        return 1;
      }),
      embedder: fakeEmbedder(ok),
      llmBreaker: new CircuitBreaker({ name: 'Claude' }),
      llmConfigured: true,
      cacheMs: 5_000,
      timeoutMs: 1000,
      now: () => t,
    });
    await Promise.all([probes.check(), probes.check(), probes.check()]);
    await probes.check();
    expect(calls).toBe(1);
    t += 5_000;
    await probes.check();
    expect(calls).toBe(2);
  });

  it('reports Claude by its breaker: open is down (extractive answers meanwhile), half-open is degraded', async () => {
    let t = 0;
    const llmBreaker = new CircuitBreaker({ name: 'Claude', failureThreshold: 1, cooldownMs: 10_000, now: () => t });
    const probes = new DependencyProbes({ store: fakeStore(() => Promise.resolve(1)), embedder: fakeEmbedder(ok), llmBreaker, llmConfigured: true, cacheMs: 0, timeoutMs: 1000 });
    expect((await probes.check()).llm).toMatchObject({ status: 'up', circuit: 'closed' });
    llmBreaker.onFailure(new Error('cannot reach api.anthropic.com; check the network or proxy and try again'));
    expect((await probes.check()).llm).toMatchObject({
      status: 'down',
      circuit: 'open',
      detail: 'Claude unavailable (circuit open after 1 failure; retrying in 10 s): cannot reach api.anthropic.com; check the network or proxy and try again; questions get extractive answers meanwhile',
    });
    t += 10_000;
    expect((await probes.check()).llm).toMatchObject({ status: 'degraded', circuit: 'half_open' });
  });
});
