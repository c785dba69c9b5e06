export * from './applications';
export * from './registry';
export * from './local-source';
export * from './tekton-client';
export * from './scmp';
export * from './tekton-registry';
