import { type Actor, OTAO_ACTOR } from '../domain/audit';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import { isStrictSemver } from '../domain/version';
import type { EndpointKey } from '../ports';
import { AuditTrail } from './audit.use-case';
import type { CoreDeps } from './core-deps';
import type { PushService } from './push.use-case';
import { findApplication } from './lookups';

export type ConsentError = Failure<'application.not_found' | 'consent.invalid_version' | 'request.invalid'>;

const MAX_ENDPOINT_ID = 512;

export function isValidEndpointId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ENDPOINT_ID;
}

/** The ports ConsentService uses. */
export type ConsentServiceDeps = Pick<CoreDeps, 'endpoints' | 'clock' | 'ids' | 'registry' | 'audit'>;

/** Consent grants per endpoint and version or `*` (spec §3, §6.4). A grant may make a push due. */
export class ConsentService {
  private readonly trail: AuditTrail;
  constructor(
    private readonly deps: ConsentServiceDeps,
    private readonly pushes: PushService,
  ) {
    this.trail = new AuditTrail(deps);
  }

  /** `actor`: who asks (audit log, spec §4.13); OTAO itself when absent. */
  async grant(
    tenantId: string,
    appName: string,
    endpointId: string,
    version: string,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<void, ConsentError>> {
    const checked = this.check(tenantId, appName, endpointId, version);
    if (!checked.ok) return checked;
    const intent = { tenantId, appName, action: 'consent.granted', actor, correlationId, version, endpointId } as const;
    await this.trail.around(
      intent,
      { kind: 'consent', granted: true },
      () => this.deps.endpoints.grantConsent(checked.value, version, this.deps.clock.now()),
      () => true,
    );
    await this.pushes.evaluateEndpoint(checked.value, correlationId);
    return ok(undefined);
  }

  async revoke(
    tenantId: string,
    appName: string,
    endpointId: string,
    version: string,
    correlationId: string = this.deps.ids.newId(),
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<void, ConsentError>> {
    const checked = this.check(tenantId, appName, endpointId, version);
    if (!checked.ok) return checked;
    const intent = { tenantId, appName, action: 'consent.revoked', actor, correlationId, version, endpointId } as const;
    await this.trail.around(
      intent,
      { kind: 'consent', granted: false },
      () => this.deps.endpoints.revokeConsent(checked.value, version, this.deps.clock.now()),
      () => true,
    );
    return ok(undefined);
  }

  private check(tenantId: string, appName: string, endpointId: string, version: string): Result<EndpointKey, ConsentError> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    if (!isValidEndpointId(endpointId))
      return err(failure('request.invalid', 'endpointId: must be a non-empty string of at most 512 characters', 'endpointId'));
    if (version !== '*' && !isStrictSemver(version)) {
      return err(failure('consent.invalid_version', `version: must be a SemVer version or "*", got ${JSON.stringify(version)}`, 'version'));
    }
    return ok({ tenantId, appName, endpointId });
  }
}
