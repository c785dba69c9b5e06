import { err, failure, type Failure, ok, type Result } from '../domain/result';
import { isStrictSemver } from '../domain/version';
import type { EndpointKey } from '../ports';
import type { CoreDeps } from './core-deps';
import type { PushService } from './push.use-case';

export type ConsentError = Failure<'application.not_found' | 'consent.invalid_version' | 'request.invalid'>;

const MAX_ENDPOINT_ID = 512;

export function isValidEndpointId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ENDPOINT_ID;
}

/** Consent grants per endpoint and version or `*` (spec §3, §6.4). A grant may make a push due. */
export class ConsentService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly pushes: PushService,
  ) {}

  async grant(tenantId: string, appName: string, endpointId: string, version: string, correlationId: string): Promise<Result<void, ConsentError>> {
    const checked = this.check(tenantId, appName, endpointId, version);
    if (!checked.ok) return checked;
    await this.deps.endpoints.grantConsent(checked.value, version, this.deps.clock.now());
    await this.pushes.evaluateEndpoint(checked.value, correlationId);
    return ok(undefined);
  }

  async revoke(tenantId: string, appName: string, endpointId: string, version: string): Promise<Result<void, ConsentError>> {
    const checked = this.check(tenantId, appName, endpointId, version);
    if (!checked.ok) return checked;
    await this.deps.endpoints.revokeConsent(checked.value, version, this.deps.clock.now());
    return ok(undefined);
  }

  private check(tenantId: string, appName: string, endpointId: string, version: string): Result<EndpointKey, ConsentError> {
    if (!this.deps.registry.settings(tenantId, appName)) {
      return err(failure('application.not_found', `application ${JSON.stringify(appName)} not found`, 'appName'));
    }
    if (!isValidEndpointId(endpointId)) return err(failure('request.invalid', 'endpointId: must be a non-empty string of at most 512 characters', 'endpointId'));
    if (version !== '*' && !isStrictSemver(version)) {
      return err(failure('consent.invalid_version', `version: must be a SemVer version or "*", got ${JSON.stringify(version)}`, 'version'));
    }
    return ok({ tenantId, appName, endpointId });
  }
}
