import { type JsonValue, utf8ByteLength } from './json';
import type { Sha256 } from '../ports/sha256.port';
import type { Software } from './software';

// The audit log of spec §4.13: who changed what, and when. Transport-neutral: the REST adapter turns
// a verified token into an `Actor`; the core never sees a token. See docs/audit.md.

export const ACTOR_TYPES = ['user', 'client', 'otao'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Who made a change: a person (`user`), a program with a client-credentials token (`client`), or OTAO itself. */
export interface Actor {
  readonly type: ActorType;
  /** `user`: the token's `sub`; `client`: its client id (`client_id`, else `azp`); `otao`: `otao`. */
  readonly id: string;
  /** `preferred_username` when the token has one. */
  readonly name?: string;
}

/** OTAO acting on its own (auto-suspension, tenant deletion, automatic phase advance, internal callers). */
export const OTAO_ACTOR: Actor = Object.freeze({ type: 'otao', id: 'otao' });

/**
 * The actor of REST calls while authentication is off (`OTAO_SECURITY_IGNORED=/**`, local use):
 * there is no token, so nobody can be named.
 */
export const ANONYMOUS_ACTOR: Actor = Object.freeze({ type: 'user', id: 'anonymous', name: 'anonymous (authentication off)' });

const MAX_ACTOR_TEXT = 256;
const SERVICE_ACCOUNT = 'service-account-';

/**
 * The actor of a verified token (spec §4.13): a client-credentials token (Keycloak puts `client_id`
 * in it and names its service account `service-account-<client>`; a token with `azp` and no `sub`
 * is one too) is a `client` named by its client id; any other token is a `user` named by `sub`.
 * `name` is `preferred_username`. Nothing else of the token is kept.
 */
export function actorOfToken(subject: string, claims: Readonly<Record<string, unknown>>): Actor {
  const text = (k: string): string | undefined => {
    const v = claims[k];
    return typeof v === 'string' && v !== '' ? v.slice(0, MAX_ACTOR_TEXT) : undefined;
  };
  const username = text('preferred_username');
  const sub = text('sub') ?? (subject !== '' ? subject.slice(0, MAX_ACTOR_TEXT) : undefined);
  const clientId = text('client_id') ?? text('clientId');
  const azp = text('azp');
  const serviceAccount = username?.startsWith(SERVICE_ACCOUNT) === true;
  const named = username !== undefined ? { name: username } : {};
  if (clientId !== undefined || serviceAccount || (sub === undefined && azp !== undefined)) {
    return { type: 'client', id: clientId ?? azp ?? username!.slice(SERVICE_ACCOUNT.length), ...named };
  }
  return { type: 'user', id: sub ?? 'unknown', ...named };
}

/**
 * Every audited action. `rollout.*` are the operator's REST actions of §6.3 (advance, hold, resume);
 * `phase.advanced` is an automatic phase advance (actor `otao`); `software.suspended` is the
 * failure policy's auto-suspension (actor `otao`, `changes.counts` the counts that triggered it).
 */
export const AUDIT_ACTIONS = [
  'software.created',
  'software.updated',
  'software.deleted',
  'software.suspended',
  'file.uploaded',
  'file.replaced',
  'file.deleted',
  'consent.granted',
  'consent.revoked',
  'rollout.advanced',
  'rollout.held',
  'rollout.resumed',
  'phase.advanced',
  'tenant.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(s: unknown): s is AuditAction {
  return typeof s === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(s);
}

/** One changed field: its value before (absent when it had none) and after (absent when it has none). */
export interface AuditChange {
  readonly old?: JsonValue;
  readonly new?: JsonValue;
}
export type AuditChanges = Readonly<Record<string, AuditChange>>;

/** An entry of the audit log, as readers see it (spec §4.13). Never a secret, a token or file bytes. */
export interface AuditEntry {
  readonly id: string;
  /** Epoch ms of the change. */
  readonly at: number;
  readonly tenantId: string;
  /** `*` for `tenant.deleted` (the tenant's every application). */
  readonly appName: string;
  readonly actor: Actor;
  readonly action: AuditAction;
  readonly version?: string;
  readonly endpointId?: string;
  readonly changes?: AuditChanges;
  readonly correlationId: string;
}

/** The application name of entries about a whole tenant (`tenant.deleted`). */
export const ALL_APPS = '*';

/** How a large JSON value appears in an entry: never its content, its size and hash. */
export interface JsonSummary {
  /** Bytes of its UTF-8 JSON text. */
  readonly size: number;
  /** SHA-256 (hex) of that text (`JSON.stringify`, key order as stored). */
  readonly sha256: string;
}

export function jsonSummary(sha256: Sha256, v: JsonValue): JsonSummary {
  const text = JSON.stringify(v);
  return { size: utf8ByteLength(text), sha256: toHex(sha256.digestUtf8(text)) };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes. */
function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b] as string;
  return s;
}

/** Fields summarised by size and hash, never shown. */
const SUMMARISED = new Set(['specification', 'metadata']);
/** Bookkeeping and identity, not changes an operator makes; the file has its own actions. */
const NOT_CHANGES = new Set(['tenantId', 'appName', 'version', 'createdAt', 'updatedAt', 'revision', 'changeId', 'file']);

function asJson(v: unknown): JsonValue | undefined {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as JsonValue);
}

/**
 * The changed fields between two states of a software (`before` absent: created; `after` absent:
 * deleted), every field but the bookkeeping ones — so fields added to `Software` later are audited
 * without a change here. Specification and metadata appear as {@link JsonSummary} (hashed with `sha256`).
 */
export function softwareChanges(sha256: Sha256, before: Software | undefined, after: Software | undefined): AuditChanges {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const out: Record<string, AuditChange> = {};
  for (const key of [...keys].sort()) {
    if (NOT_CHANGES.has(key)) continue;
    const summarise = (s: Software | undefined): JsonValue | undefined => {
      const v = asJson((s as unknown as Record<string, unknown> | undefined)?.[key]);
      return v !== undefined && SUMMARISED.has(key) ? (jsonSummary(sha256, v) as unknown as JsonValue) : v;
    };
    const a = summarise(before);
    const b = summarise(after);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    out[key] = { ...(a !== undefined ? { old: a } : {}), ...(b !== undefined ? { new: b } : {}) };
  }
  return out;
}

/** A software file as an entry shows it: name, size, hash and type (never where its bytes are, never the bytes). */
export function fileSummary(f: NonNullable<Software['file']>): JsonValue {
  return { name: f.name, size: f.size, sha256: f.sha256, contentType: f.contentType };
}
