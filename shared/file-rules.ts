/**
 * Which files must never reach the library: the server enforces these rules and
 * the extension applies the same ones before uploading, so a refusal is explained
 * in the editor instead of after a round trip.
 */

/** Always skipped, whatever the ignore files say. */
export const ALWAYS_IGNORED = ['.git/', 'node_modules/', '.DS_Store', '*.tmp'];

const SECRET_NAME_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/(^|\/)\.env(\..*)?$/i, 'environment file (.env) usually holds secrets'],
  [/\.(pem|key|p12|pfx|jks|keystore|asc|gpg|ppk)$/i, 'key or certificate file'],
  [/(^|\/)id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/i, 'SSH key'],
  [/(^|\/)[^/]*credentials?[^/]*$/i, 'file name says it holds credentials'],
  [/(^|\/)[^/]*secrets?\.(json|ya?ml|toml|txt|ini)$/i, 'file name says it holds secrets'],
  [/(^|\/)\.(npmrc|pypirc|netrc|htpasswd|pgpass)$/i, 'tool configuration that stores passwords or tokens'],
];

const SECRET_CONTENT_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/, 'contains a private key'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'contains an AWS access key id'],
  [/\bsk-ant-[A-Za-z0-9_-]{20,}/, 'contains an Anthropic API key'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, 'contains a GitHub token'],
  [/\bxox[baprs]-[A-Za-z0-9-]{10,}/, 'contains a Slack token'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'contains a Google API key'],
  // This server's own tokens: "ail_" and 32 random bytes in base64url (server/auth/token-store.ts).
  [/\bail_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/, 'contains an AI Library server token'],
];

/** Why a file name looks like it holds secrets, or null. */
export function secretNameReason(relPath: string): string | null {
  for (const [pattern, reason] of SECRET_NAME_PATTERNS) if (pattern.test(relPath)) return `secret-looking: ${reason}`;
  return null;
}

/** Why a file's text looks like it holds secrets, or null. */
export function secretContentReason(text: string): string | null {
  for (const [pattern, reason] of SECRET_CONTENT_PATTERNS) if (pattern.test(text)) return `secret-looking: ${reason}`;
  return null;
}

/** Binary if a NUL byte appears in the first 8 KiB: what git and grep use too. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export function oversizeReason(size: number, maxBytes: number): string | null {
  return size > maxBytes ? `too large: ${size} bytes, the limit is ${maxBytes} (library.max_file_bytes)` : null;
}

/**
 * Characters no library path may hold: a lone surrogate cannot be written as
 * UTF-8 (the file would land under another name), and control or bidi-override
 * characters make a path read differently from what it is. Null when clean.
 */
export function unsafePathCharacters(p: string): string | null {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(p)) return 'must be valid Unicode text (it holds a lone surrogate)';
  if (/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/.test(p)) return 'must not contain control or bidirectional-override characters';
  return null;
}
