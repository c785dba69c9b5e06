export * from './app';
export * from './error-mapping';
export * from './serialize';
export * from './openapi';
export { RequestValidator } from './validation';
export * from './file-routes';
export * from './console-routes';
