export * from './subject';
export * from './shapes';
export * from './software-repository.contract';
export * from './endpoint-repository.contract';
export * from './rollout-stats-repository.contract';
export * from './lease.contract';
export * from './job-queue.contract';
export * from './file-store.contract';
