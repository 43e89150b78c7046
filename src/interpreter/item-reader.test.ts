// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compileDefinition } from '../language/compile.js';
import { StatesErrors } from '../language/errors.js';
import { stringifyJson, type JsonValue } from '../language/json.js';
import type { ReaderConfig } from '../language/model.js';
import { startExecution, step } from './interpreter.js';
import {
  batchItems,
  csvItems,
  itemsFromReader,
  javaHashMapOrder,
  javaStringHash,
  parseCsv,
  parseObject,
} from './item-reader.js';
import type { ExecutionState, HistoryEvent, InterpreterEnv, TaskRequest } from './types.js';

const CSV: ReaderConfig = {
  inputType: 'CSV',
  csvHeaderLocation: 'FIRST_ROW',
  csvHeaders: undefined,
  csvDelimiter: ',',
};
const GET = 'arn:aws:states:::s3:getObject';

describe('parseCsv', () => {
  it('splits rows and fields, with quoted fields holding delimiters, quotes and line breaks', () => {
    assert.deepEqual(parseCsv('a,b,c\n"x, y","say ""hi""","two\nlines"\n'), [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
    ]);
  });

  it('accepts CRLF and CR, skips empty lines, keeps a line of spaces and empty fields', () => {
    assert.deepEqual(parseCsv('a,b\r\n\r\n1,2\r   \n,,\n'), [['a', 'b'], ['1', '2'], ['   '], ['', '', '']]);
  });

  it('keeps a quote inside an unquoted field, strips a BOM, reads other delimiters', () => {
    assert.deepEqual(parseCsv('\uFEFFit\'s,5"\n'), [["it's", '5"']]);
    assert.deepEqual(parseCsv('a|b\n1|"2|3"', '|'), [
      ['a', 'b'],
      ['1', '2|3'],
    ]);
    assert.deepEqual(parseCsv('"quoted" ,x'), [['quoted ', 'x']]);
  });
});

describe('CSV items', () => {
  it('maps rows to string objects: missing fields are empty, extra fields are dropped', () => {
    const r = csvItems('H1,H2\nv1\nv1,v2,v3\n', CSV);
    assert.ok(r.ok);
    assert.deepEqual(r.items, [
      { H1: 'v1', H2: '' },
      { H1: 'v1', H2: 'v2' },
    ]);
  });

  it('uses given headers, and refuses duplicates', () => {
    const given: ReaderConfig = { ...CSV, csvHeaderLocation: 'GIVEN', csvHeaders: ['A', 'B'] };
    const r = csvItems('1,2\n3,4\n', given);
    assert.ok(r.ok);
    assert.deepEqual(r.items, [
      { A: '1', B: '2' },
      { A: '3', B: '4' },
    ]);
    assert.deepEqual(csvItems('1,2\n', { ...given, csvHeaders: ['A', 'A'] }), {
      ok: false,
      cause: 'CSV headers cannot contain duplicates.',
    });
    assert.deepEqual(csvItems('A,A\n1,2\n', CSV), {
      ok: false,
      cause: 'CSV headers cannot contain duplicates.',
    });
  });

  it("orders a row's keys as Java's HashMap iterates them (AWS's output text shows it)", () => {
    assert.equal(javaStringHash('hello'), 99162322);
    assert.equal(javaStringHash('polygenelubricants'), -2147483648);
    const r = csvItems('0,True,{}\nx,y,z\n', CSV);
    assert.ok(r.ok);
    assert.equal(stringifyJson(r.items), '[{"0":"x","{}":"z","True":"y"}]');
    const r2 = csvItems('H1,\nx,y\n', CSV);
    assert.ok(r2.ok);
    assert.equal(stringifyJson(r2.items), '[{"":"y","H1":"x"}]');
    // More than 12 keys: the table has 32 buckets.
    const keys = Array.from({ length: 13 }, (_, i) => `k${i}`);
    assert.equal(javaHashMapOrder(keys).length, 13);
  });
});

describe('reading items', () => {
  it('reads JSON arrays and refuses other JSON', () => {
    assert.deepEqual(parseObject('[1,{"a":2}]', { ...CSV, inputType: 'JSON' }), {
      ok: true,
      items: [1, { a: 2 }],
    });
    assert.deepEqual(parseObject('{"Hello":"world"}', { ...CSV, inputType: 'JSON' }), {
      ok: false,
      cause: 'Attempting to map over non-iterable node.',
    });
    assert.equal(parseObject('[1,', { ...CSV, inputType: 'JSON' }).ok, false);
  });

  it('reads JSON Lines', () => {
    assert.deepEqual(parseObject('{"a":1}\n\n[2]\r\n3\n', { ...CSV, inputType: 'JSONL' }), {
      ok: true,
      items: [{ a: 1 }, [2], 3],
    });
  });

  it('applies MaxItems: 0 is all, negative fails, the limit caps', () => {
    const cfg: ReaderConfig = { ...CSV, inputType: 'JSON' };
    const out = { Body: '[1,2,3]' };
    assert.deepEqual(itemsFromReader(GET, cfg, out, 2), { ok: true, items: [1, 2] });
    assert.deepEqual(itemsFromReader(GET, cfg, out, 0), { ok: true, items: [1, 2, 3] });
    assert.deepEqual(itemsFromReader(GET, cfg, out, 100_000_001), { ok: true, items: [1, 2, 3] });
    assert.deepEqual(itemsFromReader(GET, cfg, out, -1), {
      ok: false,
      cause: 'field MaxItems must be positive',
    });
  });

  it('turns a listing into object summaries', () => {
    const r = itemsFromReader(
      'arn:aws:states:::s3:listObjectsV2',
      { ...CSV, inputType: undefined },
      {
        Contents: [
          {
            Key: 'a.txt',
            ETag: '"e1"',
            Size: 3,
            StorageClass: 'STANDARD',
            LastModified: '2024-01-01T00:00:00.000Z',
          },
        ],
      },
      undefined,
    );
    assert.deepEqual(r, {
      ok: true,
      items: [{ Etag: '"e1"', Key: 'a.txt', LastModified: 1704067200, Size: 3, StorageClass: 'STANDARD' }],
    });
  });
});

describe('batchItems', () => {
  it('groups by count, with BatchInput first', () => {
    assert.equal(
      JSON.stringify(batchItems([1, 2, 3], { maxItems: 2, maxBytes: undefined, batchInput: { t: 1 } })),
      '[{"BatchInput":{"t":1},"Items":[1,2]},{"BatchInput":{"t":1},"Items":[3]}]',
    );
    assert.deepEqual(batchItems([], { maxItems: 2, maxBytes: undefined, batchInput: undefined }), []);
  });

  it('groups by the bytes of the batch text; an item too big alone gets its own batch', () => {
    // {"Items":[]} is 12 bytes; "aaaa" 6 bytes, plus a comma between items.
    const items = ['aaaa', 'bbbb', 'cccc', 'x'.repeat(40)];
    const batches = batchItems(items, { maxItems: undefined, maxBytes: 25, batchInput: undefined });
    assert.deepEqual(batches, [
      { Items: ['aaaa', 'bbbb'] },
      { Items: ['cccc'] },
      { Items: ['x'.repeat(40)] },
    ]);
    for (const b of batches.slice(0, 2)) assert.ok(Buffer.byteLength(JSON.stringify(b)) <= 25);
  });
});

// ---- the interpreter with an ItemReader ------------------------------------------------------

function run(definition: JsonValue, input: JsonValue) {
  let seq = 0;
  const env: InterpreterEnv = {
    now: () => Date.UTC(2024, 0, 1),
    random: () => 0.5,
    uuid: () => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
  };
  const def = compileDefinition(definition);
  const events: HistoryEvent[] = [];
  let tasks: TaskRequest[] = [];
  const started = startExecution(
    def,
    {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:e',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm',
      name: 'e',
      stateMachineName: 'sm',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      input,
      recordHistory: true,
    },
    env,
  );
  // The state survives a JSON round trip between steps (the durable engine stores it so).
  let state = JSON.parse(JSON.stringify(started.state)) as ExecutionState;
  const take = (r: { events: HistoryEvent[]; commands: { kind: string; task?: TaskRequest }[] }) => {
    events.push(...r.events);
    tasks = r.commands.flatMap((c) => (c.kind === 'invokeTask' && c.task ? [c.task] : []));
  };
  take(started.result);
  return {
    events,
    get tasks() {
      return tasks;
    },
    get state() {
      return state;
    },
    send(e: Parameters<typeof step>[2]) {
      const r = step(def, state, e, env);
      take(r);
      state = JSON.parse(JSON.stringify(state)) as ExecutionState;
    },
  };
}

const distributed = (extra: Record<string, JsonValue>): JsonValue => ({
  StartAt: 'M',
  States: {
    M: {
      Type: 'Map',
      ItemReader: {
        Resource: GET,
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.b', 'Key.$': '$.k' },
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'P',
        States: { P: { Type: 'Pass', End: true } },
      },
      End: true,
      ...extra,
    },
  },
});

describe('a distributed Map with an ItemReader', () => {
  it('asks the runtime to read, then runs the items it got', () => {
    const r = run(distributed({ ItemsPath: '$.ignored' }), { b: 'bucket', k: 'key.json' });
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['ExecutionStarted', 'MapStateEntered', 'MapStateStarted', 'MapRunStarted'],
    );
    assert.deepEqual(r.events[2]!.mapStateStartedEventDetails, { length: 0 });
    assert.equal(r.tasks.length, 1);
    const task = r.tasks[0]!;
    assert.equal(task.itemReader, true);
    assert.equal(task.resource, GET);
    assert.deepEqual(task.input, { Bucket: 'bucket', Key: 'key.json' });
    r.send({ type: 'taskSucceeded', taskId: task.taskId, output: { Body: '[{"a":1},{"a":2}]' } });
    assert.equal(r.state.status, 'SUCCEEDED');
    assert.deepEqual(r.state.output, [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(
      r.events.slice(4).map((e) => e.type),
      ['MapRunSucceeded', 'MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded'],
    );
  });

  it('fails the map run with States.ItemReaderFailed when the read fails or the content is wrong', () => {
    const r = run(distributed({}), { b: 'bucket', k: 'missing' });
    r.send({
      type: 'taskFailed',
      taskId: r.tasks[0]!.taskId,
      error: 'S3.NoSuchKeyException',
      cause: 'no key',
    });
    assert.equal(r.state.status, 'FAILED');
    assert.equal(r.state.error, StatesErrors.ItemReaderFailed);
    assert.equal(r.state.cause, 'no key');
    assert.deepEqual(
      r.events.slice(4).map((e) => e.type),
      ['MapRunFailed', 'MapStateFailed', 'ExecutionFailed'],
    );
    const bad = run(distributed({}), { b: 'bucket', k: 'obj' });
    bad.send({ type: 'taskSucceeded', taskId: bad.tasks[0]!.taskId, output: { Body: '{"a":1}' } });
    assert.equal(bad.state.cause, 'Attempting to map over non-iterable node.');
  });

  it('fails a negative MaxItemsPath without reading; Catch handles ItemReaderFailed', () => {
    const def = distributed({}) as { States: { M: Record<string, JsonValue> } };
    def.States.M.ItemReader = {
      Resource: GET,
      ReaderConfig: { InputType: 'JSON', MaxItemsPath: '$.max' },
      Parameters: { Bucket: 'b', Key: 'k' },
    };
    delete def.States.M.End;
    def.States.M.Next = 'Done';
    def.States.M.Catch = [{ ErrorEquals: ['States.ItemReaderFailed'], Next: 'Done' }];
    (def.States as Record<string, JsonValue>).Done = { Type: 'Pass', End: true };
    const r = run(def, { max: -1 });
    assert.equal(r.tasks.length, 0);
    assert.equal(r.state.status, 'SUCCEEDED');
    assert.deepEqual(r.state.output, {
      Error: 'States.ItemReaderFailed',
      Cause: 'field MaxItems must be positive',
    });
  });

  it('batches the items read (ItemBatcher with paths)', () => {
    const r = run(
      distributed({
        ItemBatcher: { MaxItemsPerBatchPath: '$.n', BatchInput: { 'from.$': '$.b' } },
      }),
      { b: 'bucket', k: 'k', n: '2' },
    );
    r.send({ type: 'taskSucceeded', taskId: r.tasks[0]!.taskId, output: { Body: '[1,2,3]' } });
    assert.equal(
      stringifyJson(r.state.output ?? null),
      '[{"BatchInput":{"from":"bucket"},"Items":[1,2]},{"BatchInput":{"from":"bucket"},"Items":[3]}]',
    );
  });

  it('batches items from the input too', () => {
    const def = distributed({ ItemBatcher: { MaxItemsPerBatch: 2 } }) as {
      States: { M: Record<string, JsonValue> };
    };
    delete def.States.M.ItemReader;
    const r = run(def, [1, 2, 3]);
    assert.deepEqual(r.state.output, [{ Items: [1, 2] }, { Items: [3] }]);
  });
});
