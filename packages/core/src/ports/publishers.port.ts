/** One 6/CDTP `ConfigUpdated` to send (spec §4.3). */
export interface ConfigPush {
  readonly tenantId: string;
  readonly appName: string;
  readonly appVersionName: string;
  readonly endpointId: string;
  /** The version pushed: the CDTP `configId`. */
  readonly version: string;
  /** UTF-8 JSON text of the specification, link injected. */
  readonly content: string;
  readonly contentType: 'application/json';
  readonly correlationId: string;
}

/**
 * Publishes ConfigUpdated events. Adapters pace publishing (OTAO_PUSH_RATE_PER_SECOND): the
 * returned promise resolves once the broker accepted the event (spec §4.3: only then does a push
 * count as sent). Throws `OtaoError('dependency.unavailable')` when it cannot be published or the
 * broker did not confirm it in time (it may still have been delivered: a later re-send is harmless).
 */
export interface ConfigPublisher {
  publish(push: ConfigPush): Promise<void>;
}

export type SoftwareEventType = 'created' | 'updated' | 'deleted' | 'suspended';

/** Spec §4.9 event body. */
export interface SoftwareEvent {
  readonly type: SoftwareEventType;
  readonly tenantId: string;
  readonly appName: string;
  readonly version: string;
  readonly rolloutStrategy: string;
  /** Kaa date form. */
  readonly at: string;
  readonly correlationId: string;
}

/** Broadcasts software lifecycle events. Best effort: failures are logged by the adapter, never thrown. */
export interface SoftwareEventPublisher {
  publish(event: SoftwareEvent): Promise<void>;
}
