// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { IntrinsicEnv } from './intrinsics.js';
import { compileIntrinsic, isIntrinsicCall } from './intrinsics.js';
import type { JsonValue } from './json.js';

function env(input: JsonValue = {}, extra: Partial<IntrinsicEnv> = {}): IntrinsicEnv {
  return {
    input,
    context: {},
    random: () => 0.5,
    uuid: () => '00000000-0000-4000-8000-000000000000',
    ...extra,
  };
}

function ev(text: string, input: JsonValue = {}, extra: Partial<IntrinsicEnv> = {}): JsonValue {
  return compileIntrinsic(text, 'r.$').evaluate(env(input, extra));
}

function failsWith(text: string, input: JsonValue, error: string, cause?: RegExp | string): void {
  assert.throws(
    () => ev(text, input),
    (e: unknown) => {
      assert.ok(e instanceof StatesRuntimeError, `${text}: ${String(e)}`);
      assert.equal(e.error, error, text);
      if (typeof cause === 'string') assert.equal(e.causeText, cause);
      else if (cause) assert.match(e.causeText, cause);
      return true;
    },
  );
}

function intrinsicFailure(text: string, input: JsonValue = {}, cause?: RegExp): void {
  failsWith(text, input, StatesErrors.IntrinsicFailure, cause);
}

describe('isIntrinsicCall', () => {
  it('recognises calls only', () => {
    assert.equal(isIntrinsicCall('States.Format()'), true);
    assert.equal(isIntrinsicCall('States.UUID()'), true);
    assert.equal(isIntrinsicCall('States.Array ($.a)'), true);
    assert.equal(isIntrinsicCall('$.a'), false);
    assert.equal(isIntrinsicCall('States.Format'), false);
    assert.equal(isIntrinsicCall('states.Format()'), false);
    assert.equal(isIntrinsicCall('Format()'), false);
  });
});

describe('compileIntrinsic: syntax', () => {
  it('parses literals of every kind', () => {
    assert.deepEqual(ev("States.Array('a', 1, -2.5, 1e3, true, false, null)"), [
      'a',
      1,
      -2.5,
      1000,
      true,
      false,
      null,
    ]);
    assert.deepEqual(ev('States.Array()'), []);
    assert.deepEqual(ev('States.Array( 1 ,2 )'), [1, 2]);
  });

  it('handles escapes in string literals', () => {
    assert.equal(ev("States.Format('it\\'s')"), "it's");
    assert.equal(ev("States.Format('a\\\\b')"), 'a\\b');
    assert.deepEqual(ev("States.Array('\\{\\}')"), ['{}']);
    assert.deepEqual(ev("States.Array('a,b)')"), ['a,b)']);
    assert.deepEqual(ev("States.StringSplit('Hello\nWorld', '\n')"), ['Hello', 'World']);
  });

  it('reads path arguments of every root', () => {
    const e = env(
      { a: { b: [1, 2] }, 'k y': 3 },
      {
        context: { Execution: { Name: 'exec-1' } },
        variables: new Map<string, JsonValue>([['v', { w: 'x' }]]),
      },
    );
    const run = (t: string) => compileIntrinsic(t).evaluate(e);
    assert.deepEqual(run('States.Array($.a.b[1], $$.Execution.Name, $v.w, $v, $)'), [
      2,
      'exec-1',
      'x',
      { w: 'x' },
      { a: { b: [1, 2] }, 'k y': 3 },
    ]);
    assert.deepEqual(run("States.Array($['k y'])"), [3]);
    assert.deepEqual(run('States.Array($.a.b[?(@ > 1)])'), [[2]]);
    assert.deepEqual(run('States.Array($.a.b[0,1])'), [[1, 2]]);
  });

  it('nests calls', () => {
    assert.equal(ev("States.ArrayGetItem(States.StringSplit('a-b-c', '-'), 2)"), 'c');
    assert.equal(ev('States.MathAdd(States.MathAdd(States.MathAdd(1, 2), 3), 4)'), 10);
  });

  it('rejects malformed calls with a DefinitionError', () => {
    const bad = [
      'States.Nope()',
      'States.Format(',
      "States.Format('x'",
      "States.Format('x') trailing",
      "States.Format('unterminated)",
      // AWS rejects \" inside an intrinsic string (recorded create-error cases).
      'States.StringToJson(\'{"text":"An \\"escaped double quote\\" here"}\')',
      "States.Format('He said, \\\"Hello, {}!\\\"', 'Test')",
      "States.Format('x' 'y')",
      'States.Array(foo)',
      'States.Array($.a[)',
      'States.Array(1,)',
      'States.ArrayLength()',
      'States.ArrayRange(1, 2)',
      'States.UUID(1)',
      'States.MathRandom(1)',
      'States.Format()',
      'States.JsonMerge($.a, $.b)',
    ];
    for (const t of bad) assert.throws(() => compileIntrinsic(t), DefinitionError, t);
  });

  it('a path argument that selects nothing is a States.Runtime failure naming the field', () => {
    failsWith(
      'States.Array($.missing)',
      { a: 1 },
      StatesErrors.Runtime,
      "The JSONPath '$.missing' specified for the field 'r.$' could not be found in the input '{\"a\":1}'",
    );
  });

  it('compiles once and evaluates many times', () => {
    const fn = compileIntrinsic('States.MathAdd($.x, 1)');
    assert.equal(fn.name, 'States.MathAdd');
    assert.equal(fn.evaluate(env({ x: 1 })), 2);
    assert.equal(fn.evaluate(env({ x: 41 })), 42);
  });
});

describe('States.Format', () => {
  it('formats values the way AWS renders them (recorded cases)', () => {
    assert.equal(ev("States.Format('Formatting argument {}.', $.v)", { v: '' }), 'Formatting argument .');
    assert.equal(ev("States.Format('Formatting argument {}.', $.v)", { v: 1 }), 'Formatting argument 1.');
    assert.equal(ev("States.Format('Formatting argument {}.', $.v)", { v: 1.1 }), 'Formatting argument 1.1.');
    assert.equal(ev("States.Format('{} and {}', $.a, $.b)", { a: null, b: true }), 'null and true');
    assert.equal(
      ev("States.Format('fst={} and snd={}.', $.v, $.v)", { v: { Arg1: 1, Arg2: [] } }),
      'fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.',
    );
    assert.equal(
      ev("States.Format('{}', $.v)", { v: ['a', 1, { k: 'x' }, [null]] }),
      '[a, 1, {k=x}, [null]]',
    );
    assert.equal(ev("States.Format('{}', $.v)", { v: '{"Arg1": 1, "Arg2": []}' }), '{"Arg1": 1, "Arg2": []}');
  });

  it('escaped braces are not placeholders', () => {
    assert.equal(ev("States.Format('\\{\\} {}', 1)"), '{} 1');
    assert.equal(ev("States.Format('{\\}')"), '{}');
    intrinsicFailure("States.Format('{\\}', 1)");
  });

  it('takes the template from a path', () => {
    assert.equal(ev('States.Format($.t, $.n)', { t: 'Hello {}!', n: 'Ana' }), 'Hello Ana!');
  });

  it('fails when placeholders and arguments disagree, or the template is not a string', () => {
    intrinsicFailure("States.Format('{} {}', 1)");
    intrinsicFailure("States.Format('{}', 1, 2)");
    intrinsicFailure("States.Format('none', 1)");
    intrinsicFailure('States.Format($.t)', { t: 5 });
    intrinsicFailure('States.Format(5)');
  });
});

describe('JSON functions', () => {
  it('States.StringToJson (recorded cases)', () => {
    assert.equal(ev('States.StringToJson($.s)', { s: ' ' }), null);
    assert.equal(ev('States.StringToJson($.s)', { s: 'null' }), null);
    assert.ok(Object.is(ev('States.StringToJson($.s)', { s: '-0' }), 0));
    assert.equal(ev('States.StringToJson($.s)', { s: '1.1' }), 1.1);
    assert.equal(ev('States.StringToJson($.s)', { s: 'true' }), true);
    assert.deepEqual(ev('States.StringToJson($.s)', { s: '[1, 2, "HelloWorld"]' }), [1, 2, 'HelloWorld']);
    assert.deepEqual(ev('States.StringToJson($.s)', { s: '{"Arg1": 1, "Arg2": []}' }), { Arg1: 1, Arg2: [] });
    assert.deepEqual(ev('States.StringToJson(\'{"a": \\{\\}}\')'), { a: {} });
  });

  it('States.StringToJson failures', () => {
    intrinsicFailure('States.StringToJson($.s)', { s: '{bad' });
    intrinsicFailure('States.StringToJson($.s)', { s: 1 });
    intrinsicFailure('States.StringToJson($.s)', { s: { a: 1 } });
  });

  it('States.JsonToString is compact JSON (recorded cases)', () => {
    assert.equal(ev('States.JsonToString($.v)', { v: 1 }), '1');
    assert.equal(ev('States.JsonToString($.v)', { v: 1.1 }), '1.1');
    assert.equal(ev('States.JsonToString($.v)', { v: true }), 'true');
    assert.equal(ev('States.JsonToString($.v)', { v: { Arg1: 1, Arg2: [] } }), '{"Arg1":1,"Arg2":[]}');
    assert.equal(ev('States.JsonToString($.v)', { v: 'x' }), '"x"');
  });

  it('States.JsonMerge is shallow, the second argument wins (recorded case)', () => {
    const input = { fst: { a: { a1: 1, a2: 2 }, b: 2, d: 3 }, snd: { a: { a3: 1, a4: 2 }, c: 3, d: 4 } };
    assert.deepEqual(ev('States.JsonMerge($.fst, $.snd, false)', input), {
      a: { a3: 1, a4: 2 },
      b: 2,
      c: 3,
      d: 4,
    });
    assert.deepEqual(input.fst, { a: { a1: 1, a2: 2 }, b: 2, d: 3 }, 'inputs untouched');
    const merged = ev(
      'States.JsonMerge($.a, $.b, false)',
      JSON.parse('{"a": {}, "b": {"__proto__": 1}}') as JsonValue,
    );
    assert.ok(Object.prototype.hasOwnProperty.call(merged, '__proto__'));
  });

  it('States.JsonMerge failures', () => {
    intrinsicFailure('States.JsonMerge($.a, $.b, true)', { a: {}, b: {} }, /shallow/);
    intrinsicFailure('States.JsonMerge($.a, $.b, false)', { a: [], b: {} });
    intrinsicFailure('States.JsonMerge($.a, $.b, false)', { a: {}, b: 'x' });
    intrinsicFailure("States.JsonMerge($.a, $.b, 'false')", { a: {}, b: {} });
  });
});

describe('array functions', () => {
  it('States.Array keeps values as they are', () => {
    assert.deepEqual(ev('States.Array($.a, $.b)', { a: { x: [] }, b: null }), [{ x: [] }, null]);
  });

  it('States.ArrayPartition (recorded cases)', () => {
    const p = (a: JsonValue, n: number) => ev('States.ArrayPartition($.a, $.n)', { a, n });
    assert.deepEqual(p([], 1), []);
    assert.deepEqual(p([0], 2), [[0]]);
    assert.deepEqual(p([0, 1], 1), [[0], [1]]);
    assert.deepEqual(p([0, 1, 2], 2), [[0, 1], [2]]);
    assert.deepEqual(p([0, 1, 2, 3], 5), [[0, 1, 2, 3]]);
    intrinsicFailure('States.ArrayPartition($.a, 0)', { a: [1] });
    intrinsicFailure('States.ArrayPartition($.a, -1)', { a: [1] });
    intrinsicFailure('States.ArrayPartition($.a, 1.5)', { a: [1] });
    intrinsicFailure('States.ArrayPartition($.a, 1)', { a: 'x' });
  });

  it('States.ArrayContains uses deep equality (recorded cases)', () => {
    const c = (a: JsonValue, v: JsonValue) => ev('States.ArrayContains($.a, $.v)', { a, v });
    assert.equal(c([], null), false);
    assert.equal(c([[1, 2, 3], 2], [1, 2, 3]), true);
    assert.equal(c([[1, 2, 3], 2], null), false);
    assert.equal(c([{ 1: 2, 2: [] }], { 2: [], 1: 2 }), true);
    assert.equal(c([{ 1: 2, 2: [] }], []), false);
    assert.equal(c([true, false], false), true);
    assert.equal(c([1], '1'), false);
    intrinsicFailure('States.ArrayContains($.a, 1)', { a: { 0: 1 } });
  });

  it('States.ArrayRange (recorded cases and limits)', () => {
    assert.deepEqual(ev('States.ArrayRange(0, 9, 3)'), [0, 3, 6, 9]);
    assert.deepEqual(ev('States.ArrayRange(0, 10, 3)'), [0, 3, 6, 9]);
    assert.deepEqual(ev('States.ArrayRange(1, 9, 9)'), [1]);
    assert.deepEqual(ev('States.ArrayRange(1, 9, 2)'), [1, 3, 5, 7, 9]);
    assert.deepEqual(ev('States.ArrayRange(5, 1, -2)'), [5, 3, 1]);
    assert.deepEqual(ev('States.ArrayRange(5, 1, 1)'), []);
    assert.equal((ev('States.ArrayRange(1, 1000, 1)') as JsonValue[]).length, 1000);
    intrinsicFailure('States.ArrayRange(0, 1000, 1)', {}, /1000/);
    intrinsicFailure('States.ArrayRange(0, 10, 0)');
    intrinsicFailure('States.ArrayRange(0, 1.5, 1)');
    intrinsicFailure("States.ArrayRange('0', 5, 1)");
  });

  it('States.ArrayGetItem (recorded case) and bounds', () => {
    assert.equal(ev('States.ArrayGetItem($.a, $.i)', { a: [1, 2, 3, 4, 5, 6, 7, 8, 9], i: 5 }), 6);
    assert.deepEqual(ev('States.ArrayGetItem($.a, 0)', { a: [{ x: 1 }] }), { x: 1 });
    intrinsicFailure('States.ArrayGetItem($.a, 3)', { a: [1, 2, 3] });
    intrinsicFailure('States.ArrayGetItem($.a, -1)', { a: [1, 2, 3] });
    intrinsicFailure('States.ArrayGetItem($.a, 0.5)', { a: [1, 2, 3] });
    intrinsicFailure('States.ArrayGetItem($.a, 0)', { a: 'abc' });
  });

  it('States.ArrayLength and States.ArrayUnique', () => {
    const values: JsonValue = [null, null, true, true, false, 1, 1, 1.1, 0, 'a', 'a', [], [], [null], [null]];
    assert.equal(ev('States.ArrayLength($.a)', { a: values }), 15);
    assert.deepEqual(ev('States.ArrayUnique($.a)', { a: values }), [
      null,
      true,
      false,
      1,
      1.1,
      0,
      'a',
      [],
      [null],
    ]);
    assert.deepEqual(
      ev('States.ArrayUnique($.a)', {
        a: [
          { a: 1, b: 2 },
          { b: 2, a: 1 },
          { a: 1, b: 1 },
        ],
      }),
      [
        { a: 1, b: 2 },
        { a: 1, b: 1 },
      ],
    );
    intrinsicFailure('States.ArrayLength($.a)', { a: 'abc' });
    intrinsicFailure('States.ArrayUnique($.a)', { a: {} });
  });
});

describe('encoding and hashing', () => {
  it('States.Base64Encode / Base64Decode (recorded cases) round-trip UTF-8', () => {
    assert.equal(ev('States.Base64Encode($.s)', { s: 'Data to encode' }), 'RGF0YSB0byBlbmNvZGU=');
    assert.equal(ev('States.Base64Decode($.s)', { s: '' }), '');
    assert.equal(ev('States.Base64Decode($.s)', { s: 'RGF0YSB0byBlbmNvZGU=' }), 'Data to encode');
    assert.equal(ev('States.Base64Decode(States.Base64Encode($.s))', { s: 'héllo 🆗' }), 'héllo 🆗');
  });

  it('Base64 limits and invalid input', () => {
    assert.equal(typeof ev('States.Base64Encode($.s)', { s: 'x'.repeat(10000) }), 'string');
    intrinsicFailure('States.Base64Encode($.s)', { s: 'x'.repeat(10001) }, /10000/);
    intrinsicFailure('States.Base64Decode($.s)', { s: 'QUFB'.repeat(2501) }, /10000/);
    intrinsicFailure('States.Base64Decode($.s)', { s: 'not base64!' });
    intrinsicFailure('States.Base64Decode($.s)', { s: 'QUF' });
    intrinsicFailure('States.Base64Encode($.s)', { s: 1 });
  });

  it('States.Hash with every algorithm (recorded digests)', () => {
    const h = (alg: string) => ev('States.Hash($.d, $.a)', { d: 'input data', a: alg });
    assert.equal(h('MD5'), '812f45842bc6d66ee14572ce20db8e86');
    assert.equal(h('SHA-1'), 'aaff4a450a104cd177d28d18d74485e8cae074b7');
    assert.equal(h('SHA-256'), 'b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3');
    assert.equal(
      h('SHA-384'),
      'd28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562',
    );
    assert.equal(
      h('SHA-512'),
      '6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4',
    );
  });

  it('States.Hash failures', () => {
    intrinsicFailure("States.Hash('x', 'SHA-3')", {}, /SHA-3/);
    intrinsicFailure("States.Hash('x', 'sha-256')");
    intrinsicFailure("States.Hash($.d, 'MD5')", { d: 'x'.repeat(10001) }, /10000/);
    intrinsicFailure("States.Hash($.d, 'MD5')", { d: 5 });
  });
});

describe('math', () => {
  it('States.MathAdd rounds each operand half up (recorded cases)', () => {
    const add = (a: number, b: number) => ev('States.MathAdd($.a, $.b)', { a, b });
    const cases: [number, number, number][] = [
      [-9, 3, -6],
      [1.49, 1.5, 3],
      [1.5, 1.51, 4],
      [-1.49, -1.5, -2],
      [-1.5, -1.51, -3],
      [1.51, 0, 2],
      [-1.49, 0, -1],
      [-1.5, 0, -1],
      [-1.51, 0, -2],
      [0.5, 0, 1],
      [1.5, 0, 2],
      [2.5, 0, 3],
      [3.5, 0, 4],
      [-0.5, 0.5, 1],
      [-2.5, 0, -2],
      [-3.5, 0, -3],
    ];
    for (const [a, b, want] of cases) assert.equal(add(a, b), want, `${a} + ${b}`);
    assert.ok(Object.is(add(-0.5, 0), 0), '-0 is written as 0');
    assert.equal(ev('States.MathAdd($.i, -1)', { i: 5 }), 4);
  });

  it('States.MathAdd failures', () => {
    intrinsicFailure("States.MathAdd('1', 2)");
    intrinsicFailure('States.MathAdd($.a, 2)', { a: null });
    intrinsicFailure('States.MathAdd(2147483648, 0)');
  });

  it('States.MathRandom: range, injected randomness, seeded determinism', () => {
    assert.equal(ev('States.MathRandom(1, 11)', {}, { random: () => 0 }), 1);
    assert.equal(ev('States.MathRandom(1, 11)', {}, { random: () => 0.999999 }), 10);
    assert.equal(ev('States.MathRandom(1.4, 10.6)', {}, { random: () => 0 }), 1);
    // java.util.Random(seed).nextInt(bound): checked against a JVM.
    assert.equal(ev('States.MathRandom(0, 999, 3)'), 239);
    assert.equal(ev('States.MathRandom(0, 10, 42)'), 0);
    assert.equal(ev('States.MathRandom(0, 1000, -7)'), 662);
    assert.equal(ev('States.MathRandom(100, 164, 123456789)'), 142);
    const seeded = compileIntrinsic('States.MathRandom($.a, $.b, $.s)');
    const e = env({ a: 0, b: 999, s: 3 }, { random: () => Math.random() });
    assert.equal(seeded.evaluate(e), seeded.evaluate(e));
    intrinsicFailure('States.MathRandom(5, 5)');
    intrinsicFailure("States.MathRandom('a', 5)");
    intrinsicFailure("States.MathRandom(1, 5, 'seed')");
  });
});

describe('strings and ids', () => {
  it('States.StringSplit splits on each delimiter character and drops empty parts (recorded cases)', () => {
    const split = (s: string, d: string) => ev('States.StringSplit($.s, $.d)', { s, d });
    assert.deepEqual(split(' , ', ','), [' ', ' ']);
    assert.deepEqual(split(', , ,', ','), [' ', ' ']);
    assert.deepEqual(split(',,,,', ','), []);
    assert.deepEqual(split('1,2,3,4,5', ','), ['1', '2', '3', '4', '5']);
    assert.deepEqual(split('This.is+a,test=string', '.+,='), ['This', 'is', 'a', 'test', 'string']);
    assert.deepEqual(
      split("Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n", ','),
      [
        'Value1',
        'Value2',
        'Value3\nValue4',
        'Value5',
        'Value6\n',
        '\ntrue',
        '1',
        "'HelloWorld'\nNull",
        'None',
        '\n   \n',
      ],
    );
    assert.deepEqual(split('abc', ''), ['abc']);
    intrinsicFailure("States.StringSplit($.s, ',')", { s: 1 });
    intrinsicFailure("States.StringSplit('a', $.d)", { d: null });
  });

  it('States.UUID comes from the environment', () => {
    assert.equal(ev('States.UUID()', {}, { uuid: () => 'abc' }), 'abc');
  });
});
