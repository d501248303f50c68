import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeServer, estimateTokens, fakeVector, send } from './mistral-fake.js';

export type { Fault } from './mistral-fake.js';

export interface TeiFakeOptions {
  modelId?: string;
  dimension?: number;
  /** TEI's --max-client-batch-size (default 32). */
  maxClientBatchSize?: number;
  /** TEI's --max-input-length is the model's; 512 for BERT-sized models. */
  maxInputLength?: number;
}

/**
 * A local Text Embeddings Inference server speaking its HTTP API: POST /embed,
 * GET /info, GET /health, with TEI's error bodies ({error, error_type}).
 * Scripted faults apply to POST /embed only.
 */
export class TeiFake extends FakeServer {
  readonly modelId: string;
  readonly dimension: number;
  readonly maxClientBatchSize: number;
  readonly maxInputLength: number;

  constructor(options: TeiFakeOptions = {}) {
    super();
    this.modelId = options.modelId ?? 'BAAI/bge-small-en-v1.5';
    this.dimension = options.dimension ?? 384;
    this.maxClientBatchSize = options.maxClientBatchSize ?? 32;
    this.maxInputLength = options.maxInputLength ?? 512;
  }

  static create(options: TeiFakeOptions = {}): Promise<TeiFake> {
    return new TeiFake(options).start();
  }

  get embedRequests() {
    return this.requests.filter((r) => r.path === '/embed');
  }

  protected async handle(req: IncomingMessage, text: string, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/health') {
      this.record(req, undefined, [], 'ok').status = 200;
      res.writeHead(200);
      res.end();
      return;
    }
    if (req.method === 'GET' && req.url === '/info') {
      this.record(req, undefined, [], 'ok').status = 200;
      send(res, 200, {
        model_id: this.modelId,
        model_sha: null,
        model_dtype: 'float32',
        model_type: { embedding: { pooling: 'cls' } },
        max_concurrent_requests: 512,
        max_input_length: this.maxInputLength,
        max_batch_tokens: 16384,
        max_batch_requests: null,
        max_client_batch_size: this.maxClientBatchSize,
        auto_truncate: false,
        tokenization_workers: 2,
        version: '1.5.0',
        sha: null,
        docker_label: null,
      });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/embed') {
      res.writeHead(404);
      res.end();
      return;
    }
    const { body, obj, inputs, fault, rec, answer } = this.begin(req, text, res, 'inputs');
    switch (fault.kind) {
      case 'hang':
        return;
      case 'rate-limit':
        return answer(429, { error: 'Model is overloaded', error_type: 'overloaded' }, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
      case 'server-error':
        return answer(fault.status ?? 500, { error: 'Backend error', error_type: 'backend' }, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
      case 'unauthorized':
        return answer(401, { error: 'Unauthorized', error_type: 'unauthorized' });
      case 'malformed':
        rec.status = 200;
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json' });
        res.end(fault.body ?? JSON.stringify({ embeddings: 'nope' }));
        return;
      default:
        break;
    }
    if (body === undefined) return answer(422, { error: 'Failed to parse the request body as JSON', error_type: 'validation' });
    if (inputs.length === 0) return answer(422, { error: '`inputs` cannot be empty', error_type: 'empty' });
    if (inputs.length > this.maxClientBatchSize) {
      return answer(413, { error: `batch size ${inputs.length} > maximum allowed batch size ${this.maxClientBatchSize}`, error_type: 'validation' });
    }
    if (obj.truncate !== true) {
      const long = inputs.find((s) => estimateTokens(s) > this.maxInputLength);
      if (long !== undefined) {
        return answer(413, {
          error: `Input validation error: \`inputs\` must have less than ${this.maxInputLength} tokens. Given: ${estimateTokens(long)}`,
          error_type: 'validation',
        });
      }
    }
    await this.pause();
    const size = fault.kind === 'wrong-dimension' ? this.dimension - 1 : this.dimension;
    let vectors = inputs.map((s) => fakeVector(s, size));
    if (fault.kind === 'wrong-count') vectors = vectors.slice(0, -1);
    answer(200, vectors);
  }
}
