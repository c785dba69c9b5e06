export * from './process';
export * from './nats';
export * from './ferretdb';
