// The store (mongo-store): every repository, the lease and the job queue, with its round trips and
// client replacements counted.
import { cohortOf } from '@otao/core';
import { createMongoStore } from '@otao/mongo-store';
import { ContainerModule } from 'inversify';
import { provide, resolve } from '../tokens';

export const storeModule = new ContainerModule(({ bind }) => {
  provide(bind, 'store', (ctx) => {
    const c = resolve(ctx, 'config');
    const m = resolve(ctx, 'metrics');
    const log = resolve(ctx, 'log').child({ component: 'store' });
    const sha256 = resolve(ctx, 'sha256');
    return createMongoStore({
      uri: c.mongo.uri,
      database: c.mongo.database,
      // Each endpoint's cohort (spec §4.10) is stored with it: the phased preview groups by it.
      cohortOf: (tenantId, appName, endpointId) => cohortOf(sha256, tenantId, appName, endpointId),
      // Every round trip to the store, by command (otao_store_commands_total).
      onCommand: (e) => m.storeCommand(e.commandName),
      // A stuck driver client replaced by the store's watch (otao_store_client_replacements_total).
      onReconnect: (reason) => {
        m.storeReconnects.inc();
        log.warn({ reason }, 'store client replaced');
      },
    });
  });
});
