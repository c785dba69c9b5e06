import { WriteBatcher } from './write-batcher';

describe('WriteBatcher', () => {
  it('defers writes to the end of the event-loop turn, in order', async () => {
    const b = new WriteBatcher();
    const out: number[] = [];
    for (let i = 0; i < 5; i++) b.add(() => out.push(i));
    await Promise.resolve();
    expect(out).toEqual([]);
    expect(b.pending).toBe(5);
    await new Promise((r) => setImmediate(r));
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(b.pending).toBe(0);
  });

  it('writes at once when maxBatch writes wait', () => {
    const b = new WriteBatcher(3);
    const out: number[] = [];
    for (let i = 0; i < 7; i++) b.add(() => out.push(i));
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    b.flush();
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
