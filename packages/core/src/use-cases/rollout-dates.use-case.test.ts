// A use case built from only the ports it declares (RolloutDatesServiceDeps), not the whole CoreDeps.
import { FixedClock, InMemoryLease, InMemorySoftwareRepository, IntlZoneRules, QueueWorkScheduler } from '../testing';
import { RolloutDatesService, type RolloutDatesServiceDeps } from './rollout-dates.use-case';

function setup() {
  const deps: RolloutDatesServiceDeps = {
    software: new InMemorySoftwareRepository(),
    lease: new InMemoryLease(),
    clock: new FixedClock('2026-01-01T00:00:00Z'),
    work: new QueueWorkScheduler(),
    zones: new IntlZoneRules(),
  };
  return { deps, service: new RolloutDatesService(deps, { schedulerLeaseMs: 30_000 }) };
}

test('runs over its four ports alone: one replica at a time under the lease, nothing to enqueue in an empty store', async () => {
  const { deps, service } = setup();
  expect(await service.tick('r1')).toEqual({ ran: true, filters: 0, windows: 0 });
  expect(await new RolloutDatesService(deps, { schedulerLeaseMs: 30_000 }).tick('r2')).toEqual({ ran: false, filters: 0, windows: 0 });
  expect(deps.work instanceof QueueWorkScheduler && deps.work.pushes).toEqual([]);
});
