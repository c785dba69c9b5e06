import { exponentialBackoff } from './backoff';

describe('exponentialBackoff', () => {
  it('starts at the base delay and doubles with each attempt', () => {
    expect([1, 2, 3, 4].map((a) => exponentialBackoff(a, 100))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the maximum', () => {
    expect([5, 6, 50].map((a) => exponentialBackoff(a, 1000, 10_000))).toEqual([10_000, 10_000, 10_000]);
  });

  it('stops doubling after maxDoublings (finite for any attempt)', () => {
    expect(exponentialBackoff(12, 500, Number.POSITIVE_INFINITY, 10)).toBe(500 * 2 ** 10);
    expect(exponentialBackoff(1e9, 1, Number.POSITIVE_INFINITY, 20)).toBe(2 ** 20);
  });
});
