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
 * The service-wide push rate (OTAO_PUSH_RATE_PER_SECOND, spec §4.3): one budget shared by every
 * replica, so N replicas together push no faster than the rate.
 */
export interface PushPacer {
  /**
   * Waits until at least one push may be sent, then resolves with how many (1 to `wanted`) may be
   * sent now. Throws `OtaoError('store.unavailable')` when the shared budget cannot be reached.
   */
  take(wanted: number): Promise<number>;
}

/** No rate limit (OTAO_PUSH_RATE_PER_SECOND = 0). */
export const UNLIMITED_PUSHES: PushPacer = { take: async (wanted) => wanted };

/**
 * Publishes ConfigUpdated events (paced by the core through {@link PushPacer}): the
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
