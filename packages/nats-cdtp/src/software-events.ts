import { type Logger, noopLogger } from '@otao/core';
import type { SoftwareEvent, SoftwareEventPublisher, SoftwareEventType } from '@otao/core';
import type { NatsConnection } from './connection';

import { subjects } from './subjects';

/** The JSON body of an OTAO software event (spec §4.9); the type is the last subject token. */
export interface SoftwareEventBody {
  readonly tenantId: string;
  readonly appName: string;
  readonly version: string;
  readonly rolloutStrategy: string;
  readonly at: string;
  readonly correlationId: string;
}

const TYPES: readonly SoftwareEventType[] = ['created', 'updated', 'deleted', 'suspended', 'phase-advanced'];

/** Parses a software event; undefined when it is not one (wrong JSON, missing fields, unknown type). */
export function parseSoftwareEvent(subject: string, data: Uint8Array): SoftwareEvent | undefined {
  const type = subject.slice(subject.lastIndexOf('.') + 1) as SoftwareEventType;
  if (!TYPES.includes(type)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof b[k] === 'string' ? b[k] : undefined);
  const tenantId = str('tenantId');
  const appName = str('appName');
  if (!tenantId || !appName) return undefined;
  return {
    type,
    tenantId,
    appName,
    version: str('version') ?? '',
    rolloutStrategy: str('rolloutStrategy') ?? '',
    at: str('at') ?? '',
    correlationId: str('correlationId') ?? '',
  };
}

/**
 * Publishes spec §4.9 events as JSON on `kaa.v1.events.{instance}.software.lifecycle.{type}`.
 * Best effort, as the port says: a failure is logged, never thrown (other replicas' catalogues
 * also expire after `catalogueMaxAgeMs`).
 */
export class NatsSoftwareEventPublisher implements SoftwareEventPublisher {
  private readonly logger: Logger;

  constructor(
    private readonly connection: NatsConnection,
    private readonly config: { readonly instanceName: string },
    clients: { readonly logger?: Logger } = {},
  ) {
    this.logger = clients.logger ?? noopLogger;
  }

  async publish(event: SoftwareEvent): Promise<void> {
    const body: SoftwareEventBody = {
      tenantId: event.tenantId,
      appName: event.appName,
      version: event.version,
      rolloutStrategy: event.rolloutStrategy,
      at: event.at,
      correlationId: event.correlationId,
    };
    try {
      this.connection.client().publish(subjects.softwareLifecycle(this.config.instanceName, event.type), JSON.stringify(body));
    } catch (e) {
      this.logger.warn({ type: event.type, tenantId: event.tenantId, appName: event.appName, error: (e as Error).message }, 'software event not published');
    }
  }
}
