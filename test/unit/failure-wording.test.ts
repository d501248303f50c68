import { describe, expect, it } from 'vitest';
import { ApiError } from '../../extension/api-client.js';
import { describeFailure, sentence } from '../../extension/errors.js';
import { FAILURE_ACTION_LABELS } from '../../shared/webview-protocol.js';

const url = 'http://127.0.0.1:8000';
/** The server's 401 text (server/auth/middleware.ts). */
const needsToken = new ApiError(401, 'unauthorized', 'this server needs a token: set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>');

describe('failure wording (issue 14, defects 7 and 8)', () => {
  it('a 401 is one sentence that leaves "Set Server Token" to its one button', () => {
    const f = describeFailure(needsToken, { serverUrl: url, doing: 'answering', afterToken: 'your question is asked again once it is set' });
    expect(f.message).toBe(`AI Library: answering failed: the server at ${url} refused it: this server needs a token; your question is asked again once it is set.`);
    expect(f.message).not.toContain('Set Server Token');
    expect(f.actions.map((a) => FAILURE_ACTION_LABELS[a])).toEqual(['Set Server Token']);
    // One sentence: one full stop, at the end.
    expect(f.message.slice(0, -1)).not.toMatch(/\.\s/);
  });

  it('says which token problem the server saw', () => {
    const refused = new ApiError(401, 'unauthorized', 'the token was not accepted (mistyped, revoked or from another server): set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>');
    expect(describeFailure(refused, { serverUrl: url }).message).toBe(`AI Library: the server at ${url} refused it: the token was not accepted (mistyped, revoked or from another server).`);
  });

  it('an unreachable server while indexing names the file and the fix in one message without a double stop', () => {
    const f = describeFailure(new ApiError(0, 'unreachable', `AI Library server not reachable at ${url}`), { serverUrl: url, doing: 'indexing src/a.py' });
    expect(f.message).toBe(`AI Library: indexing src/a.py failed: the AI Library server is not reachable at ${url}; start it with "npm start" or set aiLibrary.serverUrl to your team's server.`);
    expect(f.message).not.toMatch(/\.\.|…\./);
  });

  it('the code, not the wording, decides what is offered', () => {
    // A request error whose message names Anthropic is still the developer's request to fix: no key button.
    const invalid = describeFailure(new ApiError(400, 'invalid_request', 'question: must not mention anthropic'), { serverUrl: url });
    expect(invalid.actions).toEqual([]);
    // Anthropic refusing the key offers the key, whatever the message says.
    const refused = describeFailure(new ApiError(403, 'anthropic_forbidden', 'refused for this key (permission_error)'), { serverUrl: url, doing: 'answering' });
    expect(refused.actions).toEqual(['setAnthropicKey']);
    expect(refused.message).toContain('"AI Library: Set Anthropic API Key"');
    // A 403 about who may do what is the server token's business.
    expect(describeFailure(new ApiError(403, 'forbidden', 'only its contributor or an admin may delete it'), { serverUrl: url }).actions).toEqual(['setServerToken']);
    // An endpoint the server lacks says to update the server, by its code.
    const missing = describeFailure(new ApiError(404, 'no_route', 'no route GET /api/library/taxonomy; see README "HTTP API"'), { serverUrl: url });
    expect(missing.message).toContain('update the server to a matching version');
    // The same 404 status with the ordinary code is just the server's message.
    expect(describeFailure(new ApiError(404, 'not_found', 'no index job 7'), { serverUrl: url }).message).toBe('AI Library: no index job 7');
  });

  it('an error answer without a listed code falls back to its status', () => {
    expect(describeFailure(new ApiError(503, 'http_error', 'the server answered 503 Service Unavailable'), { serverUrl: url }).actions).toEqual(['retry', 'showIndexStatus']);
    expect(describeFailure(new ApiError(401, 'http_error', 'the server answered 401 Unauthorized'), { serverUrl: url }).actions).toEqual(['setServerToken']);
  });

  it('sentence() ends a sentence exactly once', () => {
    expect(sentence('indexed 5 files into a, b, c, …')).toBe('indexed 5 files into a, b, c, …');
    expect(sentence('error a.md: not reachable.')).toBe('error a.md: not reachable.');
    expect(sentence('indexed 2 files')).toBe('indexed 2 files.');
  });
});
