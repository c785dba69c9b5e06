import type {
  ApplicationRegistry,
  AuditLog,
  Clock,
  ConfigPublisher,
  EndpointRepository,
  FileStore,
  FilterDirectory,
  IdGenerator,
  Lease,
  PushPacer,
  RolloutStatsRepository,
  Sha256,
  SoftwareEventPublisher,
  SoftwareRepository,
  WorkScheduler,
  ZoneRules,
} from '../ports';

/**
 * Every port of the core, as `createOtaoCore` takes them. `files` is absent when S3 is disabled.
 * Each use case declares the few it uses as its own `Pick` of this (`ReportServiceDeps`,
 * `ConfigRequestServiceDeps`, …), so a test builds it from just those.
 */
export interface CoreDeps {
  readonly software: SoftwareRepository;
  readonly endpoints: EndpointRepository;
  readonly stats: RolloutStatsRepository;
  readonly lease: Lease;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly registry: ApplicationRegistry;
  readonly configPublisher: ConfigPublisher;
  readonly softwareEvents: SoftwareEventPublisher;
  readonly filterDirectory: FilterDirectory;
  readonly work: WorkScheduler;
  readonly files?: FileStore;
  /** The service-wide push rate; unlimited when absent. */
  readonly pacer?: PushPacer;
  /** The audit log (spec §4.13). */
  readonly audit: AuditLog;
  /** SHA-256: cohorts of phased rollouts (spec §4.10), the audit log's summaries (§4.13). */
  readonly sha256: Sha256;
  /** The IANA time-zone rules of maintenance windows (spec §4.12). */
  readonly zones: ZoneRules;
}

/** A background recount of an application's endpoints (see CoreOptions.exactCountsBelow). */
export type RecountOutcome =
  | { readonly tenantId: string; readonly appName: string; readonly ok: true; readonly total: number; readonly ms: number }
  | { readonly tenantId: string; readonly appName: string; readonly ok: false; readonly error: unknown; readonly ms: number };

export interface CoreOptions {
  /** Maximum serialized size of a specification or metadata (OTAO_SPEC_MAX_BYTES). */
  readonly specMaxBytes: number;
  /** Download links (S3 enabled): where to inject them and how long they live. */
  readonly fileLinks?: { readonly urlPath: string; readonly ttlSeconds: number };
  /** Largest file a software may carry (OTAO_S3_MAX_FILE_BYTES); larger uploads are refused (`file.too_large`). */
  readonly maxFileBytes: number;
  /**
   * Told when an object (or a prefix) that no record points at any more could not be deleted: it
   * is left as an orphan (see docs/files.md). The change itself succeeded; the server logs and counts it.
   */
  readonly onFileCleanupFailed?: (keyOrPrefix: string, error: unknown) => void;
  /** How long a cached application catalogue is trusted without an invalidation. */
  readonly catalogueMaxAgeMs: number;
  /** Endpoints per batch when streaming a push computation. */
  readonly pushBatchSize: number;
  /** Pushes of one run in flight at once (claimed, being published); bounds how long a claim waits for a paced publisher. */
  readonly pushConcurrency: number;
  /** How long a push claim of a one-off owner (an event, not a durable job) blocks other owners before it expires. */
  readonly pushClaimMs: number;
  /** Whether a pull may ask EPR for the filters of an endpoint with no membership record. */
  readonly askFiltersOnPull: boolean;
  /** The lease of the rollout-date and phase schedulers. */
  readonly schedulerLeaseMs: number;
  /** How long audit entries are kept (OTAO_AUDIT_RETENTION_DAYS). */
  readonly auditRetentionMs: number;
  /** How old a pending audit entry must be before the reconciler resolves it (longer than any write may take). */
  readonly auditReconcileAfterMs: number;
  /** Entries per batch of the audit reconciler and of pruning. */
  readonly auditBatchSize: number;
  /** Batches of each per maintenance round. */
  readonly auditMaxBatches: number;
  /**
   * Pending offers per batch of the report-timeout scan (spec §4.11). Large: on FerretDB v2 a query
   * reads its whole index range before the limit applies, so each batch costs about the remaining
   * due offers — fewer, larger batches make the scan near linear; memory stays a batch.
   */
  readonly timeoutBatchSize: number;
  /** How often the phase scheduler checks the gates of phased rollouts (spec §4.10); the rollout view's `nextCheckAt` when waiting for reports or the gate. */
  readonly phaseCheckMs: number;
  /**
   * Applications with fewer endpoints are counted exactly for every list and preview; larger ones
   * answer from stored counts (OTAO_EXACT_COUNTS_BELOW; see FleetCounts).
   */
  readonly exactCountsBelow: number;
  /** How old stored counts may be before they are recounted in the background (OTAO_COUNTS_MAX_AGE_MS). */
  readonly countsMaxAgeMs: number;
  /** Told of every background recount: how long it took, and what it counted or why it failed (the answers then keep the older counts). */
  readonly onRecount?: (outcome: RecountOutcome) => void;
}

export const DEFAULT_CORE_OPTIONS: CoreOptions = {
  specMaxBytes: 262_144,
  maxFileBytes: 2_147_483_648,
  catalogueMaxAgeMs: 30_000,
  pushBatchSize: 1000,
  pushConcurrency: 1000,
  pushClaimMs: 60_000,
  askFiltersOnPull: true,
  schedulerLeaseMs: 30_000,
  auditRetentionMs: 400 * 86_400_000,
  auditReconcileAfterMs: 120_000,
  auditBatchSize: 500,
  auditMaxBatches: 20,
  phaseCheckMs: 5_000,
  timeoutBatchSize: 10_000,
  exactCountsBelow: 20_000,
  countsMaxAgeMs: 60_000,
};
