import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Mistral embeddings API on 127.0.0.1:0 that speaks the real wire
 * format (POST /v1/embeddings), enforces the real request limits, and can be
 * told to fail the next requests in the ways the real one does.
 */

/** What the next request gets instead of a normal answer. */
export type Fault =
  | { kind: 'ok' }
  | { kind: 'rate-limit'; retryAfter?: string }
  | { kind: 'server-error'; status?: number; retryAfter?: string }
  | { kind: 'unauthorized' }
  /** 200 with a body that is not an embeddings response (JSON of another shape by default). */
  | { kind: 'malformed'; body?: string; contentType?: string }
  | { kind: 'wrong-count' }
  | { kind: 'wrong-dimension' }
  /** A 200 whose `usage` has no token counts, as a proxy in front of Mistral might send. */
  | { kind: 'no-usage' }
  /** Never answers; the connection stays open until the client gives up. */
  | { kind: 'hang' };

export interface RecordedRequest {
  /** performance.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  inputs: string[];
  status: number | null;
  fault: Fault['kind'];
}

/** Deterministic, L2-normalised vector for a text: tests can compare exactly. */
export function fakeVector(text: string, dimension: number): number[] {
  const seed = createHash('sha256').update(text).digest();
  let state = seed.readUInt32LE(0) || 1;
  const out: number[] = [];
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    // xorshift32: cheap and repeatable.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const v = state / 0xffffffff - 0.5;
    out.push(v);
    norm += v * v;
  }
  const inv = 1 / Math.sqrt(norm || 1);
  // Six decimals, like real providers' float32-ish output; keeps big answers small and fast.
  return out.map((v) => Math.round(v * inv * 1e6) / 1e6);
}

/**
 * The tokens the fake bills: its own tokenizer, deliberately unlike the
 * server's characters/4 estimate, so a test can tell a billed count from an estimate.
 */
export function billedTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Shared plumbing for the Mistral and TEI fakes: faults, recording, in-flight counting. */
export abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Highest number of requests being handled at the same moment. */
  maxInFlight = 0;
  inFlight = 0;
  /** Delay before each normal answer, so concurrent requests overlap. */
  delayMs = 0;
  url = '';
  private readonly faults: Fault[] = [];
  /** Used when the script is empty; null means answer normally. */
  defaultFault: Fault | null = null;
  private server: Server | null = null;

  /** Queues faults for the next requests of the faultable endpoint, one each. */
  script(...faults: Fault[]): this {
    this.faults.push(...faults);
    return this;
  }

  protected nextFault(): Fault {
    return this.faults.shift() ?? this.defaultFault ?? { kind: 'ok' };
  }

  /** Waits for aborted requests' sockets to close, so the next test's in-flight count starts at 0. */
  async settle(timeoutMs = 2000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.defaultFault = null;
    this.maxInFlight = 0;
    this.delayMs = 0;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let counted = true;
      const done = () => {
        if (counted) this.inFlight--;
        counted = false;
      };
      // Counted as finished when the answer is written, not when the socket event
      // fires: client and fake share one event loop, so the event can come late.
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        done();
        return end(...args);
      }) as typeof res.end;
      res.on('close', done);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((e: unknown) => {
          if (!res.headersSent) send(res, 500, { message: String(e) });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * The common start of both fakes' embed handlers: parse the body, take the
   * next fault, record the request. `field` names the inputs (Mistral `input`,
   * TEI `inputs`); `answer` writes a reply and notes its status on the record.
   */
  protected begin(
    req: IncomingMessage,
    text: string,
    res: ServerResponse,
    field: string,
  ): {
    body: unknown;
    obj: Record<string, unknown>;
    raw: unknown;
    inputs: string[];
    fault: Fault;
    rec: RecordedRequest;
    answer: (status: number, payload: unknown, headers?: Record<string, string>) => void;
  } {
    const body = parseJson(text);
    const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const raw = obj[field];
    const inputs = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
    const fault = this.nextFault();
    const rec = this.record(req, body, inputs, fault.kind);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      send(res, status, payload, headers);
    };
    return { body, obj, raw, inputs, fault, rec, answer };
  }

  protected record(req: IncomingMessage, body: unknown, inputs: string[], fault: Fault['kind']): RecordedRequest {
    const r: RecordedRequest = {
      at: performance.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body,
      inputs,
      status: null,
      fault,
    };
    this.requests.push(r);
    return r;
  }

  protected async pause(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }

  protected abstract handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<void>;
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const MAX_INPUTS = 512;
const MAX_TOKENS = 16_384;

function mistralError(message: string, type = 'invalid_request_error'): unknown {
  return { object: 'error', message, type, param: null, code: null };
}

export class MistralFake extends FakeServer {
  constructor(readonly apiKey: string) {
    super();
  }

  static create(apiKey: string): Promise<MistralFake> {
    return new MistralFake(apiKey).start();
  }

  /** Requests that reached the embeddings endpoint. */
  get embeddingRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/embeddings');
  }

  protected async handle(req: IncomingMessage, text: string, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      send(res, 404, { detail: 'Not Found' });
      return;
    }
    const { body, obj, raw: rawInput, inputs, fault, rec, answer } = this.begin(req, text, res, 'input');

    switch (fault.kind) {
      case 'hang':
        return;
      case 'rate-limit':
        return answer(429, { message: 'Requests rate limit exceeded', request_id: randomUUID() }, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
      case 'server-error':
        return answer(fault.status ?? 500, { message: 'Internal server error', request_id: randomUUID() }, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
      case 'unauthorized':
        return answer(401, { message: 'Unauthorized', request_id: randomUUID() });
      case 'malformed':
        rec.status = 200;
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/json' });
        res.end(fault.body ?? JSON.stringify({ id: 'x', object: 'list', model: 'mistral-embed', usage: {}, dat: [] }));
        return;
      default:
        break;
    }

    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return answer(401, { message: 'Unauthorized', request_id: randomUUID() });
    }
    if (body === undefined) return answer(400, mistralError('Invalid JSON body'));
    const model = obj.model;
    if (typeof model !== 'string' || !(model.startsWith('mistral-embed') || model.startsWith('codestral-embed'))) {
      return answer(400, mistralError(`Invalid model: ${String(model)}`, 'invalid_model'));
    }
    if (!(typeof rawInput === 'string' || (Array.isArray(rawInput) && rawInput.every((x) => typeof x === 'string')))) {
      return answer(422, { detail: [{ type: 'string_type', loc: ['body', 'input'], msg: 'Input should be a valid string or list of strings' }] });
    }
    if (inputs.length === 0) return answer(400, mistralError('input must not be empty'));
    if (inputs.length > MAX_INPUTS) return answer(400, mistralError(`Batch size too large: ${inputs.length} > ${MAX_INPUTS}`));
    const tokens = inputs.reduce((n, s) => n + estimateTokens(s), 0);
    if (tokens > MAX_TOKENS) return answer(400, mistralError(`Too many tokens overall, split into more batches (${tokens} > ${MAX_TOKENS})`));
    const od = obj.output_dimension;
    const codestral = model.startsWith('codestral-embed');
    if (od !== undefined && od !== null) {
      if (!codestral) return answer(400, mistralError(`output_dimension is not supported by ${model}`));
      if (typeof od !== 'number' || !Number.isInteger(od) || od < 1 || od > 3072) return answer(400, mistralError('output_dimension must be between 1 and 3072'));
    }
    const dimension = typeof od === 'number' ? od : codestral ? 1536 : 1024;

    await this.pause();
    let data = inputs.map((s, index) => ({
      object: 'embedding',
      embedding: fakeVector(s, fault.kind === 'wrong-dimension' ? dimension - 1 : dimension),
      index,
    }));
    if (fault.kind === 'wrong-count') data = data.slice(0, -1);
    const billed = inputs.reduce((n, s) => n + billedTokens(s), 0);
    answer(200, {
      id: `embd-${randomUUID().replace(/-/g, '')}`,
      object: 'list',
      data,
      model,
      usage: fault.kind === 'no-usage' ? {} : { prompt_tokens: billed, total_tokens: billed },
    });
  }
}
