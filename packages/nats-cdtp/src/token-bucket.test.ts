import { type PacerClock, TokenBucket } from './token-bucket';

/** A clock that only moves when the bucket sleeps. */
class FakeClock implements PacerClock {
  t = 1000;
  sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

describe('TokenBucket', () => {
  it('rate 0 never waits', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(0, undefined, clock);
    for (let i = 0; i < 10_000; i++) await b.take();
    expect(clock.sleeps).toEqual([]);
  });

  it('paces sequential takes at the rate after the burst', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(100, 1, clock); // one every 10 ms, no burst
    for (let i = 0; i < 50; i++) await b.take();
    // 50 tokens at 100/s with a burst of 1: the 50th leaves 490 ms after the first.
    expect(clock.t - 1000).toBeCloseTo(490, 6);
  });

  it('allows the burst back to back, then the rate', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(1000, 20, clock);
    for (let i = 0; i < 20; i++) await b.take();
    expect(clock.sleeps).toEqual([]);
    for (let i = 0; i < 1000; i++) await b.take();
    // 1020 tokens at 1000/s with 20 free: about 1 s.
    expect(clock.t - 1000).toBeCloseTo(1000, 6);
  });

  it('paces concurrent callers together (each reserves its own slot)', async () => {
    const sleeps: number[] = [];
    // Time stands still: all five ask at the same instant.
    const b = new TokenBucket(10, 1, { now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
    await Promise.all(Array.from({ length: 5 }, () => b.take()));
    // Reservations are 0, 100, 200, 300, 400 ms after the first: the sleeps requested say so.
    expect(sleeps).toEqual([100, 200, 300, 400]);
  });

  it('refills after idling, up to the burst only', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(100, 5, clock);
    for (let i = 0; i < 5; i++) await b.take();
    clock.t += 60_000; // a long idle period
    for (let i = 0; i < 5; i++) await b.take();
    expect(clock.sleeps).toEqual([]);
    await b.take();
    expect(clock.sleeps).toEqual([10]);
  });

  it('default burst is 50 ms worth of the rate', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(2000, undefined, clock);
    for (let i = 0; i < 100; i++) await b.take();
    expect(clock.sleeps).toEqual([]);
    await b.take();
    expect(clock.sleeps.length).toBe(1);
  });

  it('rejects a negative rate', () => {
    expect(() => new TokenBucket(-1)).toThrow();
  });
});
