// @otao/core/testing: in-memory fakes of every port, a fixed clock and builders for test data.
export * from './faults';
export * from './clock';
export * from './in-memory-software-repository';
export * from './in-memory-endpoint-repository';
export * from './in-memory-rollout-stats-repository';
export * from './in-memory-lease';
export * from './in-memory-application-registry';
export * from './recording-publishers';
export * from './builders';
export * from './test-core';
export * from './security-fakes';
export * from './in-memory-job-queue';
export * from './in-memory-file-store';
export * from './sha256';
export * from './intl-zone-rules';
export * from './platform';
export * from './in-memory-audit-log';
