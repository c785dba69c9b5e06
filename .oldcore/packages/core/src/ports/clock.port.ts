/** Time enters the core only here, so every rule is testable with a fixed clock. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Randomness enters the core only here (correlation ids of pushes and events). */
export interface IdGenerator {
  /** A new unique id (non-empty). */
  newId(): string;
}
