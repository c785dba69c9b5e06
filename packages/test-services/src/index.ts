export * from './process';
export * from './nats';
export * from './ferretdb';
export * from './keycloak';
export * from './s3';
