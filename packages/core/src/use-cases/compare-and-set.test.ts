import { CAS_LOST, retryCompareAndSet } from './compare-and-set';

describe('retryCompareAndSet', () => {
  it('repeats a lost attempt and returns the first result that is not lost', async () => {
    let calls = 0;
    const r = await retryCompareAndSet(
      5,
      async () => (++calls < 3 ? CAS_LOST : `won on ${calls}`),
      () => 'exhausted',
    );
    expect(r).toBe('won on 3');
    expect(calls).toBe(3);
  });

  it('gives up after the given number of attempts with what exhausted() returns', async () => {
    let calls = 0;
    const r = await retryCompareAndSet(
      4,
      async () => {
        calls++;
        return CAS_LOST;
      },
      () => 'exhausted',
    );
    expect(r).toBe('exhausted');
    expect(calls).toBe(4);
  });
});
