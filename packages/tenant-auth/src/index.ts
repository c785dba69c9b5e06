export * from './tenant-directory';
export * from './jwt-authenticator';
export * from './permissions';
export * from './discovery';
export * from './client-credentials';
