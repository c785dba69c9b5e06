// The store (mongo-store): every repository, the lease and the job queue, with its round trips and
// client replacements counted.
import { createMongoStore } from '@otao/mongo-store';
import { ContainerModule } from 'inversify';
import { provide, resolve } from '../tokens';

export const storeModule = new ContainerModule(({ bind }) => {
  provide(bind, 'store', (ctx) => {
    const c = resolve(ctx, 'config');
    const m = resolve(ctx, 'metrics');
    const log = resolve(ctx, 'log').child({ component: 'store' });
    return createMongoStore({
      uri: c.mongo.uri,
      database: c.mongo.database,
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
