// Authentication and authorization of spec §8 (tenant-auth), and the token OTAO uses for its own calls.
import { ContainerModule } from 'inversify';
import { createSecurity } from '../../security';
import { provide, resolve } from '../tokens';

export const securityModule = new ContainerModule(({ bind }) => {
  provide(bind, 'security', (ctx) => createSecurity(resolve(ctx, 'config')));
});
