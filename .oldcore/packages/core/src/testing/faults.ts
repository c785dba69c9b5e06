import { OtaoError } from '../domain/errors';

/** A switch that makes a fake behave like an unreachable store or dependency. */
export class FaultSwitch {
  unavailable = false;
  constructor(private readonly code: 'store.unavailable' | 'dependency.unavailable' = 'store.unavailable') {}
  check(what: string): void {
    if (this.unavailable) throw new OtaoError(this.code, `${what}: simulated outage`);
  }
}
