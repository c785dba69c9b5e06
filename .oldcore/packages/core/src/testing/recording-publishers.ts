import type { ConfigPublisher, ConfigPush, FilterDirectory, PushScope, SoftwareEvent, SoftwareEventPublisher, WorkScheduler } from '../ports';
import { FaultSwitch } from './faults';

export class RecordingConfigPublisher implements ConfigPublisher {
  readonly faults = new FaultSwitch('dependency.unavailable');
  readonly pushes: ConfigPush[] = [];
  /** Keep only a count (benchmarks). */
  countOnly = false;
  count = 0;
  async publish(push: ConfigPush): Promise<void> {
    this.faults.check('config.publish');
    this.count++;
    if (!this.countOnly) this.pushes.push(push);
  }
  clear(): void {
    this.pushes.length = 0;
    this.count = 0;
  }
}

export class RecordingSoftwareEventPublisher implements SoftwareEventPublisher {
  readonly events: SoftwareEvent[] = [];
  async publish(event: SoftwareEvent): Promise<void> {
    this.events.push(event);
  }
}

/** FilterDirectory answering from tables the test sets; `faults.unavailable` simulates EPR being down. */
export class InMemoryFilterDirectory implements FilterDirectory {
  readonly faults = new FaultSwitch('dependency.unavailable');
  /** filterId -> appVersionName -> endpoint ids */
  readonly members = new Map<string, Map<string, string[]>>();
  calls = { endpointsByFilter: 0, filtersOfEndpoint: 0 };

  setMembers(filterId: string, appVersionName: string, endpointIds: readonly string[]): void {
    const m = this.members.get(filterId) ?? this.members.set(filterId, new Map()).get(filterId)!;
    m.set(appVersionName, [...endpointIds]);
  }

  async endpointsByFilter(filterId: string): Promise<ReadonlyMap<string, readonly string[]>> {
    this.calls.endpointsByFilter++;
    this.faults.check('efmp.ep-list-by-filter');
    return this.members.get(filterId) ?? new Map();
  }

  async filtersOfEndpoint(endpointId: string): Promise<readonly string[]> {
    this.calls.filtersOfEndpoint++;
    this.faults.check('efmp.ep-filters');
    const out: string[] = [];
    for (const [f, byVersion] of this.members) for (const ids of byVersion.values()) if (ids.includes(endpointId)) out.push(f);
    return out;
  }
}

/** WorkScheduler that queues work; `drain` runs it with the given handlers (tests decide when). */
export class QueueWorkScheduler implements WorkScheduler {
  readonly pushes: PushScope[] = [];
  readonly bootstraps: { tenantId: string; appName: string; filterIds: readonly string[] }[] = [];
  schedulePushes(scope: PushScope): void {
    this.pushes.push(scope);
  }
  async enqueuePushes(scope: PushScope): Promise<void> {
    this.pushes.push(scope);
  }
  scheduleFilterBootstrap(tenantId: string, appName: string, filterIds: readonly string[]): void {
    this.bootstraps.push({ tenantId, appName, filterIds });
  }
  clear(): void {
    this.pushes.length = 0;
    this.bootstraps.length = 0;
  }
}
