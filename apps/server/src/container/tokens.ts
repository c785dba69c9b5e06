// The container's tokens and the typed view of what each is bound to. Every binding is reached
// through `resolve` (one token, in a container module) or `resolveServices` (all of them, once, in
// lifecycle.ts), so a token and its type cannot drift apart.
import type { OtaoCore } from '@otao/core';
import type { LuxonZoneRules, NodeCryptoSha256 } from '@otao/node-platform';
import type { Bind, ResolutionContext } from 'inversify';
import type { MongoStore } from '@otao/mongo-store';
import type { NatsCdtp } from '@otao/nats-cdtp';
import type { S3FileStore } from '@otao/s3-files';
import type { MutableApplicationRegistry, TektonApplicationRegistry } from '@otao/tekton-config';
import type { Logger } from 'pino';
import type { OtaoConfig } from '../config';
import type { OtaoMetrics } from '../metrics';
import type { Security } from '../security';
import type { BackgroundTicks } from '../background-ticks';
import type { DurableWorkScheduler } from '../work-scheduler';
import type { HttpAppFactory } from './modules/http';

/** The application registry and how it is kept current (Tekton and 17/SCMP, or a file read once). */
export interface RegistryHandle {
  readonly registry: MutableApplicationRegistry;
  readonly tekton?: TektonApplicationRegistry;
}

/** Everything one OTAO process is made of, as the container builds it (one instance of each). */
export interface Services {
  readonly config: OtaoConfig;
  readonly log: Logger;
  readonly metrics: OtaoMetrics;
  readonly store: MongoStore;
  readonly nats: NatsCdtp;
  /** Undefined when S3 is off (OTAO_S3_ENABLED=false or no bucket). */
  readonly files: S3FileStore | undefined;
  readonly registry: RegistryHandle;
  readonly security: Security;
  readonly work: DurableWorkScheduler;
  /** The core's SHA-256 (node:crypto) and IANA zone rules (Luxon): its platform ports (ADR 0018). */
  readonly sha256: NodeCryptoSha256;
  readonly zones: LuxonZoneRules;
  readonly core: OtaoCore;
  readonly ticks: BackgroundTicks;
  readonly http: HttpAppFactory;
}

export const TYPES = {
  config: Symbol.for('Config'),
  log: Symbol.for('Logger'),
  metrics: Symbol.for('Metrics'),
  store: Symbol.for('Store'),
  nats: Symbol.for('Nats'),
  files: Symbol.for('Files'),
  registry: Symbol.for('Registry'),
  security: Symbol.for('Security'),
  work: Symbol.for('Work'),
  sha256: Symbol.for('Sha256'),
  zones: Symbol.for('ZoneRules'),
  core: Symbol.for('Core'),
  ticks: Symbol.for('BackgroundTicks'),
  http: Symbol.for('Http'),
} as const satisfies Record<keyof Services, symbol>;

/** What can resolve a token: the container, or the context a binding's factory receives. */
interface Resolver {
  get<T>(id: symbol): T;
}

/** Binds a token to one instance, built by `make` when it is first resolved. */
export function provide<K extends keyof Services>(bind: Bind, key: K, make: (ctx: ResolutionContext) => Services[K]): void {
  bind<Services[K]>(TYPES[key]).toDynamicValue(make).inSingletonScope();
}

/** Binds a token to a value built already. */
export function provideValue<K extends keyof Services>(bind: Bind, key: K, value: Services[K]): void {
  bind<Services[K]>(TYPES[key]).toConstantValue(value);
}

/** The instance bound to one token, typed. */
export function resolve<K extends keyof Services>(from: Resolver, key: K): Services[K] {
  return from.get<Services[K]>(TYPES[key]);
}

/**
 * Every binding, resolved once. The core first: resolving it builds the store, NATS, S3, the
 * registry and the work scheduler in the order the core needs them (an unreadable applications
 * file fails here).
 */
export function resolveServices(from: Resolver): Services {
  const core = resolve(from, 'core');
  return {
    config: resolve(from, 'config'),
    log: resolve(from, 'log'),
    metrics: resolve(from, 'metrics'),
    store: resolve(from, 'store'),
    nats: resolve(from, 'nats'),
    files: resolve(from, 'files'),
    registry: resolve(from, 'registry'),
    security: resolve(from, 'security'),
    work: resolve(from, 'work'),
    sha256: resolve(from, 'sha256'),
    zones: resolve(from, 'zones'),
    core,
    ticks: resolve(from, 'ticks'),
    http: resolve(from, 'http'),
  };
}
