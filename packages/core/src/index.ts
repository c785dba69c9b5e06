// @otao/core: everything OTAO decides, behind ports. Pure: no I/O, no drivers, no environment.
//
// The public API: what another Kaa service embedding the core, or an adapter, is meant to use —
// the domain model and its validation, the ports, `createOtaoCore` and the types of the services
// it returns (their inputs, results and coded failures), the errors, Result and the shared support
// helpers. Implementation helpers live under `@otao/core/internal` (src/internal.ts). The list is
// pinned by test/public-api.test.ts: a new export here is a deliberate change.

// Domain model and validation.
export * from './domain/result';
export * from './domain/errors';
export * from './domain/json';
export * from './domain/kaa-date';
export * from './domain/version';
export * from './domain/software';
export * from './domain/phases';
export * from './domain/window';
export * from './domain/audit';
export * from './domain/file-name';
export * from './domain/eligibility';
export { describeCycle, findCycle, type GraphNode, versionKey } from './domain/upgrade-graph';

// Ports (the contracts adapters implement).
export * from './ports';

// Pure, domain-neutral helpers the adapters share (docs/adr/0017).
export * from './support/backoff';
export * from './support/logger';

// The core and its use cases: build it with createOtaoCore; the services are reached through
// OtaoCore (their classes are exported as types only).
export { type CoreDeps, type CoreOptions, DEFAULT_CORE_OPTIONS, type RecountOutcome } from './use-cases/core-deps';
export { createOtaoCore, type OtaoCore } from './use-cases/otao-core';
export type { ApplicationsService, ApplicationView, MayRead } from './use-cases/applications.use-case';
export {
  AUDIT_MAINTENANCE_LEASE,
  AUDIT_MAX_LIMIT,
  type AuditFilters,
  type AuditMaintenanceRun,
  type AuditPageError,
  type AuditService,
  type TenantPurge,
} from './use-cases/audit.use-case';
export type { ConfigAnswer, ConfigDecision, ConfigRequest, ConfigRequestError, ConfigRequestService } from './use-cases/config-request.use-case';
export { type ConsentError, type ConsentService, isValidEndpointId } from './use-cases/consent.use-case';
export type { EndpointEventsService, EventOutcome, FilterBootstrapSummary } from './use-cases/endpoint-events.use-case';
export {
  type EndpointView,
  HISTORY_DEFAULT_SPAN_MS,
  type EndpointList,
  HISTORY_MAX_SPAN_MS,
  type HistoryQuery,
  type InsightService,
  type LaterReason,
  PREVIEW_GROUPS,
  type PageQuery,
  type PhaseView,
  type Preview,
  type PreviewGroup,
  type PreviewItem,
  type RolloutHistory,
  type RolloutView,
  type WindowView,
} from './use-cases/insight.use-case';
export { type HoldCommand, PHASES_LEASE, type PhaseChange, type PhaseCommandError, type PhaseRun, type PhaseService } from './use-cases/phases.use-case';
export type { PushRunSummary, PushService } from './use-cases/push.use-case';
export { REPORT_TIMEOUTS_LEASE, type ReportTimeoutsRun, type ReportTimeoutsService } from './use-cases/report-timeouts.use-case';
export type { AppliedReport, ReportOutcome, ReportService } from './use-cases/report.use-case';
export { ROLLOUT_DATES_LEASE, type RolloutDatesRun, type RolloutDatesService } from './use-cases/rollout-dates.use-case';
export type {
  CheckUploadError,
  FileDownload,
  FileUploaded,
  GetFileError,
  RemoveFileError,
  SoftwareFilesService,
  UploadFileError,
  UploadFileRequest,
} from './use-cases/software-files.use-case';
export type {
  CreateSoftwareError,
  DeleteSoftwareError,
  GetSoftwareError,
  Precondition,
  ReplaceSoftwareError,
  SoftwareRevisionRef,
  SoftwareService,
} from './use-cases/software.use-case';
export type { TenantService } from './use-cases/tenant.use-case';
