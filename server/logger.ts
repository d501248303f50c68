import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs (pino: fast, and its redaction keeps secrets out). Any
 * field that could carry a credential is censored wherever it appears.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    redact: {
      paths: ['*.authorization', '*.Authorization', '*.api_key', '*.apiKey', '*.token', 'headers["x-anthropic-api-key"]', '*.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
