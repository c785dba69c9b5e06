import type { Software } from '../domain/software';

export type CreateOutcome = 'created' | 'conflict';
export type ReplaceOutcome = 'replaced' | 'not_found' | 'revision_mismatch';
export type DeleteOutcome = 'deleted' | 'not_found' | 'revision_mismatch';

/**
 * Software definitions, scoped by (tenantId, appName). Versions are compared by SemVer precedence
 * (build metadata ignored): `1.0.0+a` and `1.0.0+b` are the same software.
 * Free JSON (`specification`, `metadata`) is returned equal to what was stored after a JSON round
 * trip, whatever its keys (`$`-prefixed, dotted), nesting or unicode.
 * Every method throws `OtaoError('store.unavailable')` when the store cannot be reached; expected
 * outcomes are returned, never thrown.
 */
export interface SoftwareRepository {
  /** All software of the application, ascending by SemVer precedence; `[]` when none. */
  list(tenantId: string, appName: string): Promise<Software[]>;
  /** The software with this version (by precedence), or undefined. */
  get(tenantId: string, appName: string, version: string): Promise<Software | undefined>;
  /** Inserts; `conflict` when a software with the same precedence exists. Not idempotent. */
  create(software: Software): Promise<CreateOutcome>;
  /**
   * Replaces the stored software when its revision equals `expectedRevision` and its `createdAt`
   * (the incarnation) equals `software.createdAt` (optimistic concurrency); `software.revision`
   * must be the new revision. Atomic compare-and-set; `revision_mismatch` when another revision or
   * another incarnation is stored.
   */
  replace(software: Software, expectedRevision: number): Promise<ReplaceOutcome>;
  /**
   * Deletes; when `expectedRevision` is given, only if it matches, and when `expectedCreatedAt` is
   * given too, only if the stored software is that incarnation (atomic compare-and-set).
   */
  delete(tenantId: string, appName: string, version: string, expectedRevision?: number, expectedCreatedAt?: number): Promise<DeleteOutcome>;
  /** Deletes every software of the tenant. Idempotent. */
  deleteTenant(tenantId: string): Promise<void>;
  /** Every targeted software of every tenant (start-up filter bootstrap and the rollout-date scheduler). */
  listTargeted(): Promise<Software[]>;
  /**
   * The revision of the application's catalogue: a number that changes with every create, replace
   * or delete of its software (and `deleteTenant`), never returning to an earlier value; 0 when
   * nothing was ever stored. It moves once the change is stored, before the writing call returns,
   * so a replica that reads it before deciding sees every acknowledged change (spec §4.3, §10).
   */
  catalogueRevision(tenantId: string, appName: string): Promise<number>;
}
