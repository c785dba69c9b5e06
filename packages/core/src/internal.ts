// @otao/core/internal: everything the core's modules export, the public API (./index) and the
// implementation helpers behind it (catalogue cache, memo planner, content builder, lookups,
// compare-and-set, the services' constructors and their narrow dependencies). For the core's own
// in-memory fakes, benches and white-box tests; adapters and apps import the public entry only
// (ESLint bans `@otao/core/internal` there). What is here may change without notice.
export * from './domain/result';
export * from './domain/errors';
export * from './domain/json';
export * from './domain/kaa-date';
export * from './domain/version';
export * from './domain/software';
export * from './domain/phases';
export * from './domain/cohort-memo';
export * from './domain/window';
export * from './domain/audit';
export * from './domain/file-name';
export * from './domain/upgrade-graph';
export * from './domain/eligibility';
export * from './domain/planner';
export * from './ports';
export * from './support/backoff';
export * from './support/logger';
export * from './use-cases/core-deps';
export * from './use-cases/catalogue-cache';
export * from './use-cases/content-builder';
export * from './use-cases/lookups';
export * from './use-cases/compare-and-set';
export * from './use-cases/software.use-case';
export * from './use-cases/software-files.use-case';
export * from './use-cases/config-request.use-case';
export * from './use-cases/report.use-case';
export * from './use-cases/push.use-case';
export * from './use-cases/rollout-safety';
export * from './use-cases/endpoint-events.use-case';
export * from './use-cases/consent.use-case';
export * from './use-cases/tenant.use-case';
export * from './use-cases/applications.use-case';
export * from './use-cases/insight.use-case';
export * from './use-cases/fleet-counts';
export * from './use-cases/rollout-dates.use-case';
export * from './use-cases/audit.use-case';
export * from './use-cases/phases.use-case';
export * from './use-cases/report-timeouts.use-case';
export * from './use-cases/otao-core';
