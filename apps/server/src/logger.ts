import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

/** JSON logs (pino) with correlation ids passed per line; secrets redacted wherever they appear as fields. */
export function createLogger(level: LogLevel, replicaId: string): Logger {
  return pino({
    level,
    base: { service: 'otao', replicaId },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['*.token', '*.authorization', '*.clientSecret', '*.password', '*.pass', 'headers.authorization', 'config.security.oauth.clientSecret'],
      censor: '***',
    },
  });
}
