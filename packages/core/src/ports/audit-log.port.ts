import type { AuditAction, AuditEntry } from '../domain/audit';

/** `pending`: appended before its change, not yet known to be stored; `committed`: the change is stored. */
export type AuditState = 'pending' | 'committed';

/**
 * How a pending entry left behind (its writer died or lost the store between the change and the
 * commit) is told applied or not by the reconciler (docs/audit.md):
 * - `software`: applied iff the software of (tenant, app, version) is the incarnation `createdAt`
 *   and carries the entry's id as `changeId` (every audited write of a software first commits the
 *   change id of the state it replaces, so a later write never hides an applied change);
 * - `software-gone`: a delete; applied iff no software of that incarnation exists;
 * - `consent`: applied iff the endpoint's consents include the version (`granted`) or not (revoked);
 * - `tenant-deleted`: the deletion is run again (idempotent), then the entry is committed.
 * An entry without a witness is committed by the reconciler.
 */
export type AuditWitness =
  | { readonly kind: 'software'; readonly createdAt: number }
  | { readonly kind: 'software-gone'; readonly createdAt: number }
  | { readonly kind: 'consent'; readonly granted: boolean }
  | { readonly kind: 'tenant-deleted' };

/** An entry as stored: the entry, its state, and how to resolve it while pending. */
export interface AuditRecord extends AuditEntry {
  readonly state: AuditState;
  readonly witness?: AuditWitness;
}

/** A page query: one application of one tenant, newest first. Filters are exact matches; all must hold. */
export interface AuditQuery {
  readonly tenantId: string;
  readonly appName: string;
  readonly version?: string;
  readonly endpointId?: string;
  readonly action?: AuditAction;
  /** Matches the actor's `id` or its `name`. */
  readonly actor?: string;
  /** Entries at or after (epoch ms). */
  readonly since?: number;
  /** Entries strictly before (epoch ms). */
  readonly until?: number;
  readonly offset: number;
  readonly limit: number;
}

export interface AuditPage {
  /** Committed entries, newest first (`at` descending, then `id` descending), without state or witness. */
  readonly content: AuditEntry[];
  /** Committed entries matching the query, all pages together. */
  readonly totalElements: number;
}

/**
 * The append-only audit log of spec §4.13, scoped by tenant. Entries are appended `pending` before
 * their change and committed after it (or discarded when the change was not made); readers see
 * committed entries only. Every method throws `OtaoError('store.unavailable')` when the store cannot
 * be reached; expected outcomes are returned.
 */
export interface AuditLog {
  /**
   * Stores a new entry (pending or committed). Idempotent on `id`: appending an id that is already
   * stored changes nothing (a retry after a lost answer). Once this resolves the entry survives a
   * crash of the caller.
   */
  append(record: AuditRecord): Promise<void>;
  /** Marks the tenant's pending entries with these ids committed. Idempotent; unknown or committed ids are ignored. */
  commit(tenantId: string, ids: readonly string[]): Promise<void>;
  /** Removes the entry only while it is pending (its change was not made). Idempotent; a committed entry is never removed. */
  discard(tenantId: string, id: string): Promise<void>;
  /** A page of committed entries of one application, newest first, and how many match. */
  page(query: AuditQuery): Promise<AuditPage>;
  /** Up to `limit` pending entries of any tenant with `at` before `before`, oldest first (for the reconciler). */
  pending(before: number, limit: number): Promise<AuditRecord[]>;
  /**
   * Deletes up to `limit` entries (any tenant, any state) with `at` before `before`, oldest first,
   * and returns how many it deleted: call again while it returns `limit` (retention, in batches).
   */
  prune(before: number, limit: number): Promise<number>;
  /**
   * Deletes every entry of the tenant except its `tenant.deleted` entries (the record that its data
   * was deleted, kept until retention prunes it). Idempotent.
   */
  deleteTenant(tenantId: string): Promise<void>;
}
