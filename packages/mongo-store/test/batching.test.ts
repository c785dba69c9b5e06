import { type AnyBulkWriteOperation, type Collection, type Document, MongoBulkWriteError, MongoServerError } from 'mongodb';
import { BulkWriter } from '../src/batching';

// A bulk write answered with errors per operation has applied every other operation (FerretDB v2
// runs each in its own subtransaction): only the operations a transient conflict rolled back may run
// again. Sending the whole bulk again made a conditional write (markOffered) find its own first
// write and answer `duplicate`: an offer not counted (adapter.int.test.ts saw 288 of 300 under load).
type Op = AnyBulkWriteOperation<Document>;

/** A collection whose bulkWrite answers from a script, and records what it was sent. */
function scripted(answers: ((ops: readonly Op[]) => void)[]): { collection: Collection<Document>; sent: string[][] } {
  const sent: string[][] = [];
  const collection = {
    bulkWrite: async (ops: Op[]) => {
      sent.push(ops.map((o) => String((o as unknown as { updateOne: { filter: { _id: string } } }).updateOne.filter._id)));
      answers.shift()?.(ops);
      return {};
    },
  } as unknown as Collection<Document>;
  return { collection, sent };
}

const op = (id: string): Op => ({ updateOne: { filter: { _id: id } as Document, update: { $set: { x: 1 } }, upsert: true } });
const perOperation = (errors: { index: number; code: number; errmsg: string }[]) => {
  throw new MongoBulkWriteError({ message: errors[0]!.errmsg, code: errors[0]!.code, writeErrors: errors } as never, {} as never);
};

test('an operation rolled back by a deadlock runs again alone; the applied ones are not sent again', async () => {
  const { collection, sent } = scripted([() => perOperation([{ index: 1, code: 1, errmsg: 'deadlock detected' }])]);
  const writer = new BulkWriter(collection, 'test.write');
  const outcomes = await Promise.all(['a', 'b', 'c'].map((id) => writer.write(op(id))));
  expect(outcomes).toEqual(['ok', 'ok', 'ok']);
  expect(sent).toEqual([['a', 'b', 'c'], ['b']]);
});

test('per operation: a duplicate is told, a deadlock runs again, another error rejects its caller only', async () => {
  const { collection, sent } = scripted([
    () =>
      perOperation([
        { index: 0, code: 11000, errmsg: 'duplicate key' },
        { index: 1, code: 1, errmsg: 'deadlock detected' },
        { index: 2, code: 2, errmsg: 'bad value' },
      ]),
    () => perOperation([{ index: 0, code: 11000, errmsg: 'duplicate key' }]), // b, run again, now meets another's first write
  ]);
  const writer = new BulkWriter(collection, 'test.write');
  const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => writer.write(op(id)).catch((e: Error) => e.message)));
  expect(outcomes).toEqual(['duplicate', 'duplicate', expect.stringContaining('bad value'), 'ok']);
  expect(sent).toEqual([['a', 'b', 'c', 'd'], ['b']]);
});

test('a deadlock of the whole command (nothing applied) runs the whole bulk again', async () => {
  const { collection, sent } = scripted([
    () => {
      throw new MongoServerError({ message: 'deadlock detected', code: 1 });
    },
  ]);
  const writer = new BulkWriter(collection, 'test.write');
  expect(await Promise.all(['a', 'b'].map((id) => writer.write(op(id))))).toEqual(['ok', 'ok']);
  expect(sent).toEqual([
    ['a', 'b'],
    ['a', 'b'],
  ]);
});
