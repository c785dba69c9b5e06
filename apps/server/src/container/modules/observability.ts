// Configuration, logs and metrics: values built before anything else, so that every other module
// (and a start that fails) can log and count.
import { ContainerModule } from 'inversify';
import { type OtaoConfig, secretsOf } from '../../config';
import { createLogger } from '../../logger';
import { OtaoMetrics } from '../../metrics';
import { provideValue } from '../tokens';

export function observabilityModule(config: OtaoConfig): ContainerModule {
  return new ContainerModule(({ bind }) => {
    provideValue(bind, 'config', config);
    provideValue(bind, 'log', createLogger(config.logLevel, config.replicaId, secretsOf(config)));
    provideValue(bind, 'metrics', new OtaoMetrics());
  });
}
