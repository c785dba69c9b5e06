// The inversify container of one OTAO process: one module per concern (container/modules/*); the
// adapters themselves know nothing of inversify.
import { Container } from 'inversify';
import type { OtaoConfig } from '../config';
import { coreModule } from './modules/core';
import { filesModule } from './modules/files';
import { httpModule } from './modules/http';
import { messagingModule } from './modules/messaging';
import { observabilityModule } from './modules/observability';
import { registryModule } from './modules/registry';
import { securityModule } from './modules/security';
import { storeModule } from './modules/store';

export { type RegistryHandle, resolve, resolveServices, type Services, TYPES } from './tokens';
export type { HttpAppFactory } from './modules/http';

/** Builds the container of one OTAO process (nothing is built before it is resolved, but the logger and the metrics). */
export function createContainer(config: OtaoConfig): Container {
  const container = new Container();
  container.load(observabilityModule(config), securityModule, storeModule, messagingModule, filesModule, registryModule, coreModule, httpModule);
  return container;
}
