import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

/** Replaces every occurrence of the secrets in a serialized log line, in raw and in JSON-escaped form. */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const f of forms) if (out.includes(f)) out = out.replaceAll(f, '***');
    return out;
  };
}

/**
 * JSON logs (pino) with correlation ids passed per line. Secrets are redacted wherever they appear
 * as fields (paths below), and the configuration's own secrets (`secretsOf(config)`: passwords,
 * the client secret, credentials inside configured URLs) are scrubbed from every line, whatever
 * message or error text carries them.
 */
export function createLogger(level: LogLevel, replicaId: string, secrets: readonly string[] = []): Logger {
  const scrub = secretScrubber(secrets);
  return pino({
    level,
    base: { service: 'otao', replicaId },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        '*.token',
        '*.accessToken',
        '*.access_token',
        '*.authorization',
        '*.clientSecret',
        '*.client_secret',
        '*.secret',
        '*.password',
        '*.pass',
        'headers.authorization',
        '*.headers.authorization',
        'config.nats.pass',
        'config.security.oauth.clientSecret',
      ],
      censor: '***',
    },
    hooks: { streamWrite: scrub },
  });
}
