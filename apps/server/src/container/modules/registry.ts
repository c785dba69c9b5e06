// The application registry (tekton-config): from Tekton's REST API kept current by 17/SCMP, or from
// the applications file / inline configuration, read once.
import { fromDocument, loadApplicationsFile, MutableApplicationRegistry, TektonApplicationRegistry, TektonClient } from '@otao/tekton-config';
import { ContainerModule } from 'inversify';
import { retry } from '../../retry';
import { provide, resolve } from '../tokens';

export const registryModule = new ContainerModule(({ bind }) => {
  provide(bind, 'registry', (ctx) => {
    const c = resolve(ctx, 'config');
    if (c.tekton.enabled) {
      const security = resolve(ctx, 'security');
      const log = resolve(ctx, 'log').child({ component: 'registry' });
      const tekton = new TektonApplicationRegistry(
        new TektonClient({
          url: c.tekton.url,
          instanceName: c.instanceName,
          defaultTenant: c.security.defaultTenant,
          ...(security.tokens ? { token: () => security.tokens!.token() } : {}),
        }),
        {
          logger: log,
          // Spec §4.3/§7: a reload that changed an application's settings (consentRequired switched
          // off) or versions drops its cached catalogue and makes pushes due. The core depends on the
          // registry, so it is resolved lazily, at the first change (after start).
          onChanged: (changed) => {
            const core = resolve(ctx, 'core');
            const keys = new Set(changed.map((a) => `${a.tenantId}\u0000${a.appName}`));
            const apps = tekton.registry.entries().filter((e) => keys.has(`${e.tenantId}\u0000${e.appName}`));
            void retry(
              'registry change',
              log,
              () => false,
              () => core.endpointEvents.registryLoaded(apps),
            );
          },
        },
      );
      return { registry: tekton.registry, tekton };
    }
    const registry = new MutableApplicationRegistry();
    registry.replace(
      {},
      c.applicationsFile
        ? loadApplicationsFile(c.applicationsFile, c.security.defaultTenant)
        : fromDocument('OTAO_CONFIG_FILE', c.inlineApplications, c.security.defaultTenant),
    );
    return { registry };
  });
});
