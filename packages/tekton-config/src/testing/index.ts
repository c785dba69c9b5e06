export * from './fake-tekton';
