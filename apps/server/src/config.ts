// The only reader of process.env. Parses every variable of spec §9 (and the optional YAML file of
// OTAO_CONFIG_FILE with Kaa-style keys; the environment wins), validates all of them, reports every
// problem at once, and returns a frozen configuration that is passed down to the adapters.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface OtaoConfig {
  readonly httpPort: number;
  readonly instanceName: string;
  readonly replicaId: string;
  readonly nats: { readonly urls: readonly string[]; readonly user?: string; readonly pass?: string };
  readonly softwareConsumerInstance: string;
  readonly eprInstance: string;
  readonly tenantManagerInstance: string;
  readonly mongo: { readonly uri: string; readonly database: string };
  readonly s3: {
    readonly enabled: boolean;
    readonly bucket?: string;
    readonly region: string;
    readonly endpoint?: string;
    readonly forcePathStyle: boolean;
    readonly urlPath: string;
    readonly urlTtlSeconds: number;
    readonly maxFileBytes: number;
  };
  readonly security: {
    readonly ignored: readonly string[];
    /** True when every path is ignored (`/**`): authentication off. */
    readonly off: boolean;
    readonly defaultTenant: string;
    readonly tenantManagerUrl?: string;
    readonly tenants?: readonly { readonly id: string; readonly issuer: string }[];
    readonly oauth: { readonly clientId?: string; readonly clientSecret?: string; readonly issuer?: string; readonly audience?: string };
    readonly authzMode: 'rpt' | 'uma';
  };
  readonly tekton: { readonly enabled: boolean; readonly url: string; readonly scmpProviderInstance: string };
  readonly applicationsFile?: string;
  /** Inline `kaa.applications` and/or `kaa.tenants` (spec §7) from the YAML configuration file, when given there. */
  readonly inlineApplications?: unknown;
  readonly pushRatePerSecond: number;
  /** OTAO_EVENT_RETRY_SECONDS: how long an incoming event is retried while a dependency is down. */
  readonly eventRetrySeconds: number;
  readonly specMaxBytes: number;
  /** OTAO_AUDIT_RETENTION_DAYS: how long audit entries are kept (spec §4.13). */
  readonly auditRetentionDays: number;
  /** OTAO_EXACT_COUNTS_BELOW: applications with fewer endpoints get exact counts in every list and preview; larger ones answer from stored counts. */
  readonly exactCountsBelow: number;
  /** OTAO_COUNTS_MAX_AGE_MS: stored counts older than this are recounted in the background. */
  readonly countsMaxAgeMs: number;
  readonly logLevel: LogLevel;
  /** The operator console (spec §11) at /console/: OTAO_CONSOLE_ENABLED, OTAO_CONSOLE_CLIENT_ID (its public OpenID client). */
  readonly console: { readonly enabled: boolean; readonly clientId: string };
}

/** A configuration that cannot start the service; `problems` names every wrong variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

/** Kaa-style YAML keys and the variables they set. */
const KAA_KEYS: Readonly<Record<string, string>> = {
  'server.port': 'OTAO_HTTP_PORT',
  'kaa.service-instance.name': 'OTAO_SERVICE_INSTANCE_NAME',
  'nats.urls': 'OTAO_NATS_URLS',
  'kaa.otao.software-consumer.service-instance.name': 'OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME',
  'security.ignored': 'OTAO_SECURITY_IGNORED',
  'kaa.tekton.enabled': 'OTAO_TEKTON_ENABLED',
  'kaa.tekton.url': 'OTAO_TEKTON_URL',
  'kaa.scmp.consumer.provider.service-instance.name': 'OTAO_SCMP_PROVIDER_INSTANCE_NAME',
};

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/; // a NATS subject token (and a safe queue group)
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The applications of spec §7 inline in the configuration file, kept whole by `flatten`. */
const INLINE_APPLICATION_KEYS = ['kaa.applications', 'kaa.tenants'];

/** Flattens nested YAML into dotted keys (`kaa.tekton.enabled`), keeping `kaa.applications` and `kaa.tenants` whole. */
function flatten(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && !INLINE_APPLICATION_KEYS.includes(prefix)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = obj;
  return out;
}

function scalar(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => scalar(x) ?? '').join(',');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Reads and validates the configuration. Throws ConfigError listing every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): OtaoConfig {
  const problems: string[] = [];
  const fromFile: Record<string, string | undefined> = {};
  let inlineApplications: { kaa: Record<string, unknown> } | undefined;
  const file = env['OTAO_CONFIG_FILE'];
  if (file) {
    try {
      const flat = flatten(parseYaml(readFileSync(file, 'utf8')));
      for (const [k, v] of Object.entries(flat)) {
        if (INLINE_APPLICATION_KEYS.includes(k)) inlineApplications = { kaa: { ...inlineApplications?.kaa, [k.slice('kaa.'.length)]: v } };
        else if (KAA_KEYS[k]) fromFile[KAA_KEYS[k]] = scalar(v);
        else if (/^OTAO_[A-Z0-9_]+$/.test(k) || k === 'NATS_USERNAME' || k === 'NATS_PASSWORD') fromFile[k] = scalar(v);
        else problems.push(`OTAO_CONFIG_FILE: unknown key "${k}"`);
      }
    } catch (e) {
      problems.push(`OTAO_CONFIG_FILE: cannot read ${file}: ${(e as Error).message}`);
    }
  }
  const get = (name: string): string | undefined => {
    const v = env[name] ?? fromFile[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const str = (name: string, def: string): string => get(name) ?? def;
  const token = (name: string, def: string): string => {
    const v = str(name, def);
    if (!TOKEN.test(v)) problems.push(`${name}: "${v}" must be 1–128 letters, digits, "-" or "_" (it is a NATS subject token)`);
    return v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}: "${raw}" must be an integer from ${min} to ${max}`);
      return def;
    }
    return Number(raw);
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    problems.push(`${name}: "${raw}" must be true or false`);
    return def;
  };
  const url = (name: string, protocols: readonly string[], def?: string): string | undefined => {
    const raw = get(name) ?? def;
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) problems.push(`${name}: "${redactUrl(raw)}" must use ${protocols.join(' or ')}`);
    } catch {
      problems.push(`${name}: "${redactUrl(raw)}" is not a URL`);
    }
    return raw;
  };

  const natsUrls = str('OTAO_NATS_URLS', 'nats://127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of natsUrls) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u)) problems.push(`OTAO_NATS_URLS: "${redactUrl(u)}" must be nats://host:port (comma-separated list)`);
  }
  const natsUser = get('NATS_USERNAME');
  const natsPass = get('NATS_PASSWORD');

  const s3Enabled = bool('OTAO_S3_ENABLED', false);
  const s3Bucket = get('OTAO_S3_BUCKET');
  if (s3Enabled && !s3Bucket) problems.push('OTAO_S3_BUCKET: required when OTAO_S3_ENABLED=true');
  if (s3Bucket && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3Bucket)) problems.push(`OTAO_S3_BUCKET: "${s3Bucket}" is not a valid bucket name`);
  const s3Endpoint = url('OTAO_S3_ENDPOINT', ['http:', 'https:']);
  const urlPath = str('OTAO_S3_URL_PATH', 'link');
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(urlPath)) problems.push(`OTAO_S3_URL_PATH: "${urlPath}" must be dot-separated non-empty keys`);

  const ignored = str('OTAO_SECURITY_IGNORED', 'none')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none');
  const off = ignored.includes('/**');
  const tenantManagerUrl = url('OTAO_TENANT_MANAGER_URL', ['http:', 'https:']);
  let tenants: { id: string; issuer: string }[] | undefined;
  const tenantsRaw = get('OTAO_TENANTS');
  if (tenantsRaw !== undefined) {
    try {
      const v: unknown = JSON.parse(tenantsRaw);
      if (
        !Array.isArray(v) ||
        v.some((t) => typeof (t as { id?: unknown }).id !== 'string' || !/^https?:\/\//.test(String((t as { issuer?: unknown }).issuer)))
      ) {
        problems.push('OTAO_TENANTS: must be a JSON array of {"id": string, "issuer": "http(s)://…"}');
      } else tenants = (v as { id: string; issuer: string }[]).map((t) => ({ id: t.id, issuer: t.issuer }));
    } catch {
      problems.push('OTAO_TENANTS: not valid JSON');
    }
  }
  const oauthIssuer = url('OTAO_OAUTH_ISSUER', ['http:', 'https:']);
  const clientId = get('OTAO_OAUTH_CLIENT_ID');
  const clientSecret = get('OTAO_OAUTH_CLIENT_SECRET');
  const audience = get('OTAO_OAUTH_AUDIENCE');
  const authzRaw = str('OTAO_AUTHZ_MODE', 'rpt');
  if (authzRaw !== 'rpt' && authzRaw !== 'uma') problems.push(`OTAO_AUTHZ_MODE: "${authzRaw}" must be rpt or uma`);
  if (!off) {
    if (!tenants && !tenantManagerUrl) problems.push('OTAO_TENANTS or OTAO_TENANT_MANAGER_URL: one is required unless OTAO_SECURITY_IGNORED=/**');
    if (tenantManagerUrl && !oauthIssuer)
      problems.push('OTAO_OAUTH_ISSUER: required with OTAO_TENANT_MANAGER_URL (the system tenant issuer and the Keycloak base)');
    if (authzRaw === 'uma' && !clientId) problems.push('OTAO_OAUTH_CLIENT_ID: required with OTAO_AUTHZ_MODE=uma (the audience of decisions)');
  }
  if ((clientId === undefined) !== (clientSecret === undefined)) problems.push('OTAO_OAUTH_CLIENT_ID and OTAO_OAUTH_CLIENT_SECRET: give both or neither');

  const tektonEnabled = bool('OTAO_TEKTON_ENABLED', false);
  const tektonUrl = url('OTAO_TEKTON_URL', ['http:', 'https:'], 'http://tekton') ?? 'http://tekton';
  const applicationsFile = get('OTAO_APPLICATIONS_FILE');
  if (applicationsFile && !existsSync(applicationsFile)) problems.push(`OTAO_APPLICATIONS_FILE: ${applicationsFile} does not exist`);
  if (!tektonEnabled && !applicationsFile && inlineApplications === undefined) {
    problems.push('OTAO_APPLICATIONS_FILE: required unless OTAO_TEKTON_ENABLED=true (or kaa.applications / kaa.tenants in OTAO_CONFIG_FILE)');
  }
  if (tektonEnabled && !clientId && !off)
    problems.push('OTAO_OAUTH_CLIENT_ID: required with OTAO_TEKTON_ENABLED=true (Tekton calls use a client-credentials token)');
  // OTAO's own calls (Tekton, the Tenant Manager) take their token from the system tenant's issuer;
  // without it the client would be ignored and the calls made without any token.
  if ((clientId || clientSecret) && !oauthIssuer && (tektonEnabled || tenantManagerUrl)) {
    const users = [tektonEnabled ? 'OTAO_TEKTON_ENABLED=true' : '', tenantManagerUrl ? 'OTAO_TENANT_MANAGER_URL' : ''].filter(Boolean).join(' and ');
    problems.push(
      `OTAO_OAUTH_ISSUER: required with OTAO_OAUTH_CLIENT_ID/OTAO_OAUTH_CLIENT_SECRET and ${users} (OTAO's calls there use a client-credentials token from this issuer, the system tenant's)`,
    );
  }

  const logLevel = str('OTAO_LOG_LEVEL', 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`OTAO_LOG_LEVEL: "${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  const consoleClientId = str('OTAO_CONSOLE_CLIENT_ID', 'otao-console');
  if (!/^[\x21-\x7e]{1,255}$/.test(consoleClientId))
    problems.push(`OTAO_CONSOLE_CLIENT_ID: "${consoleClientId}" must be 1–255 printable ASCII characters without spaces`);
  const mongoUri = url('OTAO_MONGODB_URI', ['mongodb:', 'mongodb+srv:'], 'mongodb://127.0.0.1:27017') ?? 'mongodb://127.0.0.1:27017';

  const cfg: OtaoConfig = {
    httpPort: int('OTAO_HTTP_PORT', 8080, 0, 65535),
    instanceName: token('OTAO_SERVICE_INSTANCE_NAME', 'otao'),
    replicaId: token(
      'OTAO_REPLICA_ID',
      `${hostname()
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 100)}-${randomBytes(4).toString('hex')}`,
    ),
    nats: { urls: natsUrls, ...(natsUser ? { user: natsUser } : {}), ...(natsPass ? { pass: natsPass } : {}) },
    softwareConsumerInstance: token('OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME', 'cmx-ota'),
    eprInstance: token('OTAO_EPR_INSTANCE_NAME', 'epr'),
    tenantManagerInstance: token('OTAO_TENANT_MANAGER_INSTANCE_NAME', 'tenant-manager'),
    mongo: { uri: mongoUri, database: token('OTAO_MONGODB_DATABASE', 'otao') },
    s3: {
      enabled: s3Enabled,
      ...(s3Bucket ? { bucket: s3Bucket } : {}),
      region: str('OTAO_S3_REGION', 'us-east-1'),
      ...(s3Endpoint ? { endpoint: s3Endpoint } : {}),
      forcePathStyle: bool('OTAO_S3_FORCE_PATH_STYLE', false),
      urlPath,
      urlTtlSeconds: int('OTAO_S3_URL_TTL_SECONDS', 3600, 1, 604_800),
      maxFileBytes: int('OTAO_S3_MAX_FILE_BYTES', 2_147_483_648, 1, 5 * 1024 ** 4),
    },
    security: {
      ignored,
      off,
      defaultTenant: token('OTAO_DEFAULT_TENANT', 'default'),
      ...(tenantManagerUrl ? { tenantManagerUrl } : {}),
      ...(tenants ? { tenants } : {}),
      oauth: {
        ...(clientId ? { clientId } : {}),
        ...(clientSecret ? { clientSecret } : {}),
        ...(oauthIssuer ? { issuer: oauthIssuer } : {}),
        ...(audience ? { audience } : {}),
      },
      authzMode: authzRaw === 'uma' ? 'uma' : 'rpt',
    },
    tekton: { enabled: tektonEnabled, url: tektonUrl, scmpProviderInstance: token('OTAO_SCMP_PROVIDER_INSTANCE_NAME', 'tekton') },
    ...(applicationsFile ? { applicationsFile } : {}),
    ...(inlineApplications !== undefined ? { inlineApplications } : {}),
    pushRatePerSecond: int('OTAO_PUSH_RATE_PER_SECOND', 0, 0, 1_000_000),
    eventRetrySeconds: int('OTAO_EVENT_RETRY_SECONDS', 600, 0, 86_400),
    specMaxBytes: int('OTAO_SPEC_MAX_BYTES', 262_144, 1024, 16 * 1024 * 1024),
    auditRetentionDays: int('OTAO_AUDIT_RETENTION_DAYS', 400, 1, 36_500),
    exactCountsBelow: int('OTAO_EXACT_COUNTS_BELOW', 20_000, 1, 1_000_000_000),
    countsMaxAgeMs: int('OTAO_COUNTS_MAX_AGE_MS', 60_000, 1_000, 86_400_000),
    logLevel,
    console: { enabled: bool('OTAO_CONSOLE_ENABLED', true), clientId: consoleClientId },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(cfg);
}

/**
 * A configured URL as it may appear in a log line or an error message — the one redaction of
 * URLs: the user info (`user:pass@`) becomes `***@`, every query value `***` (names stay), the
 * fragment `***`. Works on malformed text too (over-redacting rather than leaking).
 */
export function redactUrl(u: string): string {
  return u
    .replace(/^([^:/?#\s]+:\/\/)[^?#]*@/, '$1***@')
    .replace(/([?&][^=&#]*)=[^&#]*/g, '$1=***')
    .replace(/#.*$/s, '#***');
}

/** Query parameter names whose values are secrets (tokens, keys, signatures, passwords). */
const SECRET_PARAM = /token|secret|pass|pwd|key|sig|auth|credential|session|code/i;
/** Shorter values are not scrubbed from log lines (they would garble every line); the URL redaction still hides them. */
const MIN_SCRUBBED_LENGTH = 4;

/** The secrets inside one configured URL: the user info's password and secret-looking query values, raw and decoded. */
function secretsOfUrl(u: string): string[] {
  const out: string[] = [];
  const userinfo = /^[^:/?#\s]+:\/\/([^?#]*)@/.exec(u)?.[1];
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    out.push(colon >= 0 ? userinfo.slice(colon + 1) : userinfo);
  }
  for (const m of u.matchAll(/[?&]([^=&#]*)=([^&#]*)/g)) if (SECRET_PARAM.test(m[1] as string)) out.push(m[2] as string);
  return out.flatMap((v) => {
    try {
      return [v, decodeURIComponent(v)];
    } catch {
      return [v];
    }
  });
}

/**
 * Every secret the configuration holds (passwords, the client secret, credentials inside
 * configured URLs), for the logger to scrub from every line whatever field or message carries it.
 */
export function secretsOf(c: OtaoConfig): string[] {
  const urls = [
    ...c.nats.urls,
    c.mongo.uri,
    c.security.tenantManagerUrl,
    c.security.oauth.issuer,
    c.tekton.url,
    c.s3.endpoint,
    ...(c.security.tenants ?? []).map((t) => t.issuer),
  ];
  const all = [c.nats.pass, c.security.oauth.clientSecret, ...urls.flatMap((u) => (u === undefined ? [] : secretsOfUrl(u)))];
  return [...new Set(all.filter((s): s is string => s !== undefined && s.length >= MIN_SCRUBBED_LENGTH))];
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The configuration as it may be logged: secrets removed, every URL through redactUrl. */
export function describeConfig(c: OtaoConfig): Record<string, unknown> {
  const { tenantManagerUrl, tenants, oauth } = c.security;
  return {
    ...c,
    nats: { urls: c.nats.urls.map(redactUrl), user: c.nats.user, pass: c.nats.pass ? '***' : undefined },
    mongo: { ...c.mongo, uri: redactUrl(c.mongo.uri) },
    s3: { ...c.s3, endpoint: c.s3.endpoint === undefined ? undefined : redactUrl(c.s3.endpoint) },
    security: {
      ...c.security,
      tenantManagerUrl: tenantManagerUrl === undefined ? undefined : redactUrl(tenantManagerUrl),
      tenants: tenants?.map((t) => ({ id: t.id, issuer: redactUrl(t.issuer) })),
      oauth: { ...oauth, issuer: oauth.issuer === undefined ? undefined : redactUrl(oauth.issuer), clientSecret: oauth.clientSecret ? '***' : undefined },
    },
    tekton: { ...c.tekton, url: redactUrl(c.tekton.url) },
    inlineApplications: c.inlineApplications ? '(inline)' : undefined,
  };
}
