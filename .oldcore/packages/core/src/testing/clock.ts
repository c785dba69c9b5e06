import { parseKaaDate } from '../domain/kaa-date';
import type { Clock, IdGenerator } from '../ports';

/** A clock that moves only when told to. */
export class FixedClock implements Clock {
  private t: number;
  constructor(start: number | string = '2026-01-01T00:00:00Z') {
    this.t = typeof start === 'number' ? start : (parseKaaDate(start) ?? 0);
  }
  now(): number {
    return this.t;
  }
  set(t: number | string): void {
    this.t = typeof t === 'number' ? t : (parseKaaDate(t) ?? this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Ids `id-1`, `id-2`, … */
export class SequentialIds implements IdGenerator {
  private n = 0;
  constructor(private readonly prefix = 'id-') {}
  newId(): string {
    return `${this.prefix}${++this.n}`;
  }
}
