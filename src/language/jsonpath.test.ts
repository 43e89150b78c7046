// node:test's describe/it return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { JsonValue } from './json.js';
import {
  compilePath,
  compileReferencePath,
  jsonPathNotFoundCause,
  pathNotFoundCause,
  PathSyntaxError,
  ReferencePathError,
  resultPathMatchFailureCause,
} from './jsonpath.js';

const store: JsonValue = {
  store: {
    book: [
      { category: 'reference', author: 'Rees', title: 'Sayings', price: 8.95 },
      { category: 'fiction', author: 'Waugh', title: 'Sword', price: 12.99, isbn: '0-553' },
      { category: 'fiction', author: 'Melville', title: 'Moby Dick', price: 8.99, isbn: '0-395' },
      { category: 'fiction', author: 'Tolkien', title: 'LOTR', price: 22.99, isbn: null },
    ],
    bicycle: { color: 'red', price: 19.95 },
  },
  'a b': 1,
  "it's": 2,
  'x.y': 3,
  nums: [0, 1, 2, 3, 4, 5],
};

function sel(path: string, doc: JsonValue = store): JsonValue | undefined {
  return compilePath(path).selectFrom(doc);
}

describe('compilePath: roots', () => {
  it('recognises input, context and variable roots', () => {
    assert.deepEqual(compilePath('$').root, { kind: 'input' });
    assert.deepEqual(compilePath('$.a').root, { kind: 'input' });
    assert.deepEqual(compilePath('$$').root, { kind: 'context' });
    assert.deepEqual(compilePath('$$.Execution.Id').root, { kind: 'context' });
    assert.deepEqual(compilePath('$myVar').root, { kind: 'variable', name: 'myVar' });
    assert.deepEqual(compilePath('$my_var2.field[0]').root, { kind: 'variable', name: 'my_var2' });
  });

  it('select picks the root value from the environment', () => {
    const env = {
      input: { a: 1 },
      context: { Execution: { Name: 'exec' } },
      variables: new Map<string, JsonValue>([['v', { f: [10, 20] }]]),
    };
    assert.equal(compilePath('$.a').select(env), 1);
    assert.deepEqual(compilePath('$').select(env), { a: 1 });
    assert.equal(compilePath('$$.Execution.Name').select(env), 'exec');
    assert.equal(compilePath('$v.f[1]').select(env), 20);
    assert.deepEqual(compilePath('$v').select(env), { f: [10, 20] });
    assert.equal(compilePath('$nope').select(env), undefined);
    assert.equal(compilePath('$v').select({ input: 1, context: 2 }), undefined);
  });

  it('rejects text that is not a path', () => {
    for (const bad of [
      '',
      'a.b',
      '.a',
      '$.',
      '$..',
      '$.a.',
      '$[',
      '$[0',
      "$['a",
      '$.a b',
      '$a-b',
      '$.a[?(@.x',
      '$.a[1:2:0]',
    ]) {
      assert.throws(() => compilePath(bad), PathSyntaxError, bad);
    }
  });
});

describe('compilePath: definite paths', () => {
  it('selects through dot and bracket notation', () => {
    assert.equal(sel('$.store.bicycle.color'), 'red');
    assert.equal(sel("$['store']['bicycle']['color']"), 'red');
    assert.equal(sel('$["store"]["bicycle"].color'), 'red');
    assert.equal(sel("$['a b']"), 1);
    assert.equal(sel('$["it\'s"]'), 2);
    assert.equal(sel("$['x.y']"), 3);
    assert.equal(sel('$.store.book[1].author'), 'Waugh');
    assert.equal(sel('$.nums[0]'), 0);
    assert.deepEqual(sel('$'), store);
  });

  it('allows hyphens and other characters in dot names', () => {
    assert.equal(sel('$.delivery-partner', { 'delivery-partner': 'x' }), 'x');
    assert.equal(sel('$.input-value', { 'input-value': 0 }), 0);
  });

  it('counts negative indices from the end', () => {
    assert.equal(sel('$.nums[-1]'), 5);
    assert.equal(sel('$.nums[-6]'), 0);
    assert.equal(sel('$.nums[-7]'), undefined);
  });

  it('accepts the `.[` forms found in real definitions', () => {
    assert.equal(sel('$.[0]', [7, 8]), 7);
    assert.equal(sel('$.store.book.[0].author'), 'Rees');
  });

  it('returns undefined (not null) when nothing is there', () => {
    assert.equal(sel('$.missing'), undefined);
    assert.equal(sel('$.store.missing.deeper'), undefined);
    assert.equal(sel('$.nums[6]'), undefined);
    assert.equal(sel('$.store.book[0].isbn'), undefined);
    assert.equal(sel('$.store.book[3].isbn'), null);
  });

  it('does not index objects or look keys up on arrays or scalars', () => {
    assert.equal(sel('$.store[0]'), undefined);
    assert.equal(sel('$.nums.length'), undefined);
    assert.equal(sel('$.nums.0'), undefined);
    assert.equal(sel('$.a.b', { a: 'string' }), undefined);
    assert.equal(sel('$.a', 5), undefined);
  });

  it('only sees own properties', () => {
    assert.equal(sel('$.constructor', {}), undefined);
    assert.equal(sel('$.toString', {}), undefined);
    assert.equal(sel('$.__proto__', {}), undefined);
    const own = JSON.parse('{"__proto__": {"x": 1}}') as JsonValue;
    assert.equal(sel('$.__proto__.x', own), 1);
  });

  it('keeps a backslash-escaped quote verbatim in a bracket name, as AWS does', () => {
    // Recorded: $['Test\""Name"'] reads the key Test\""Name" (input_output ESCAPE_SEQUENCES_JSONPATH).
    const input = JSON.parse('{"Test\\\\\\"\\"Name\\"": "Value\\"\\\\"}') as JsonValue;
    assert.equal(sel(`$['Test\\""Name"']`, input), 'Value"\\');
  });

  it('reports definiteness and the normalised form', () => {
    const p = compilePath('$.a.b[0]');
    assert.equal(p.definite, true);
    assert.equal(p.normalized, "$['a']['b'][0]");
    for (const q of ['$.a[*]', '$.a.*', '$..a', '$.a[1:2]', '$.a[0,1]', "$['a','b']", '$.a[?(@.x)]']) {
      assert.equal(compilePath(q).definite, false, q);
    }
    assert.equal(compilePath('$.a[*].b[?(@.c == 1)]').normalized, "$['a'][*]['b'][?]");
  });
});

describe('compilePath: indefinite paths', () => {
  it('wildcards over arrays and objects', () => {
    assert.deepEqual(sel('$.store.book[*].author'), ['Rees', 'Waugh', 'Melville', 'Tolkien']);
    assert.deepEqual(sel('$.store.bicycle.*'), ['red', 19.95]);
    assert.deepEqual(sel('$.store.bicycle[*]'), ['red', 19.95]);
    assert.deepEqual(sel('$[*]', {}), []);
    assert.deepEqual(sel('$.nums.*'), [0, 1, 2, 3, 4, 5]);
  });

  it('returns [] when nothing matches (recorded json_path_array_wildcard_or_slice_with_no_input)', () => {
    for (const p of [
      '$[*]',
      '$.items[*]',
      '$.items[1:]',
      '$.items[:1].itemValue',
      '$.item.items[1:5].itemValue',
    ]) {
      assert.deepEqual(sel(p, {}), [], p);
    }
  });

  it('slices like Python', () => {
    assert.deepEqual(sel('$.nums[1:3]'), [1, 2]);
    assert.deepEqual(sel('$.nums[:2]'), [0, 1]);
    assert.deepEqual(sel('$.nums[-2:]'), [4, 5]);
    assert.deepEqual(sel('$.nums[4:100]'), [4, 5]);
    assert.deepEqual(sel('$.nums[::2]'), [0, 2, 4]);
    assert.deepEqual(sel('$.nums[1::2]'), [1, 3, 5]);
    assert.deepEqual(sel('$.nums[::-2]'), [5, 3, 1]);
    assert.deepEqual(sel('$.nums[3:1]'), []);
    assert.deepEqual(sel('$.nums[-100:1]'), [0]);
  });

  it('unions of indices and names', () => {
    assert.deepEqual(sel('$.nums[0,2,-1]'), [0, 2, 5]);
    assert.deepEqual(sel('$.nums[0,99]'), [0]);
    assert.deepEqual(sel("$.store.bicycle['color','price']"), ['red', 19.95]);
    assert.deepEqual(sel("$.store.bicycle['color','nope']"), ['red']);
    assert.deepEqual((sel("$.store.book.[*].['author','price']") as JsonValue[]).slice(0, 4), [
      'Rees',
      8.95,
      'Waugh',
      12.99,
    ]);
  });

  it('recursive descent in document order', () => {
    assert.deepEqual(sel('$..author'), ['Rees', 'Waugh', 'Melville', 'Tolkien']);
    assert.deepEqual(sel('$.store..price'), [8.95, 12.99, 8.99, 22.99, 19.95]);
    assert.deepEqual(sel('$..book[0].author'), ['Rees']);
    assert.deepEqual(sel('$..nope'), []);
    assert.deepEqual(sel('$..x', { x: 1, a: { x: 2, b: [{ x: 3 }] } }), [1, 2, 3]);
    assert.deepEqual(sel('$..*', { a: { b: 1 }, c: [2] }), [{ b: 1 }, [2], 1, 2]);
  });

  it('filters with comparisons on numbers and strings', () => {
    const titles = (p: string) => sel(p.replace(/TITLES$/, '.title'));
    assert.deepEqual(titles('$.store.book[?(@.price < 10)]TITLES'), ['Sayings', 'Moby Dick']);
    assert.deepEqual(titles('$.store.book[?(@.price <= 8.99)]TITLES'), ['Sayings', 'Moby Dick']);
    assert.deepEqual(titles('$.store.book[?(@.price > 12.99)]TITLES'), ['LOTR']);
    assert.deepEqual(titles('$.store.book[?(@.price >= 12.99)]TITLES'), ['Sword', 'LOTR']);
    assert.deepEqual(titles("$.store.book[?(@.category == 'reference')]TITLES"), ['Sayings']);
    assert.deepEqual(titles('$.store.book[?(@.category == "reference")]TITLES'), ['Sayings']);
    assert.deepEqual(titles("$.store.book[?(@.category != 'fiction')]TITLES"), ['Sayings']);
    assert.deepEqual(titles("$.store.book[?(@.author > 'R')]TITLES"), ['Sayings', 'Sword', 'LOTR']);
  });

  it('filters: existence, null, booleans and logic', () => {
    assert.deepEqual(sel('$.store.book[?(@.isbn)].title'), ['Sword', 'Moby Dick', 'LOTR']);
    assert.deepEqual(sel('$.store.book[?(@.isbn == null)].title'), ['LOTR']);
    assert.deepEqual(sel('$.store.book[?(!@.isbn)].title'), ['Sayings']);
    assert.deepEqual(sel("$.store.book[?(@.category == 'fiction' && @.price < 20)].title"), [
      'Sword',
      'Moby Dick',
    ]);
    assert.deepEqual(sel("$.store.book[?(@.price < 9 || @.author == 'Tolkien')].title"), [
      'Sayings',
      'Moby Dick',
      'LOTR',
    ]);
    assert.deepEqual(sel("$.store.book[?((@.price < 9 || @.price > 20) && @.category == 'fiction')].title"), [
      'Moby Dick',
      'LOTR',
    ]);
    assert.deepEqual(sel('$[?(@.ok == true)].n', [{ ok: true, n: 1 }, { ok: false, n: 2 }, { n: 3 }]), [1]);
  });

  it('filters: no cross-type ordering, number equality, missing fields', () => {
    const items = [{ v: 1 }, { v: '1' }, { v: 1.0 }, {}, { v: null }];
    assert.equal((sel('$[?(@.v == 1)]', items) as JsonValue[]).length, 2);
    assert.equal((sel("$[?(@.v == '1')]", items) as JsonValue[]).length, 1);
    assert.equal((sel('$[?(@.v < 2)]', items) as JsonValue[]).length, 2);
    assert.equal((sel('$[?(@.v != 1)]', items) as JsonValue[]).length, 3);
  });

  it('filters against the document root and nested paths', () => {
    assert.deepEqual(sel('$.store.book[?(@.price > $.store.bicycle.price)].title'), ['LOTR']);
    assert.deepEqual(
      sel('$[?(@.a.b[0] == 2)].id', [
        { a: { b: [2] }, id: 'x' },
        { a: { b: [3] }, id: 'y' },
      ]),
      ['x'],
    );
    assert.deepEqual(sel("$[?(@['a b'] == 1)].id", [{ 'a b': 1, id: 'x' }]), ['x']);
  });

  it('filters: regex, in and nin', () => {
    assert.deepEqual(sel('$.store.book[?(@.author =~ /^T.*/)].title'), ['LOTR']);
    assert.deepEqual(sel('$.store.book[?(@.author =~ /^t/i)].title'), ['LOTR']);
    assert.deepEqual(sel("$.store.book[?(@.author in ['Rees', 'Waugh'])].title"), ['Sayings', 'Sword']);
    assert.deepEqual(sel("$.store.book[?(@.category nin ['fiction'])].title"), ['Sayings']);
  });

  it('filters: lenient unquoted literals and the `.[?` form', () => {
    assert.deepEqual(sel('$.store.book[?(@.category == reference)].title'), ['Sayings']);
    assert.deepEqual(sel('$.[?(@.x > 0)]', [{ x: 1 }, { x: 0 }]), [{ x: 1 }]);
  });

  it('a filter on an object tests the object itself (Jayway)', () => {
    assert.deepEqual(sel('$.store.bicycle[?(@.color)]'), [{ color: 'red', price: 19.95 }]);
    assert.deepEqual(sel("$.store.bicycle[?(@.color == 'blue')]"), []);
    assert.deepEqual(sel("$..[?(@.color == 'red')].price"), [19.95]);
  });

  it('matches the recorded state_pass_regex_json_path_base case', () => {
    const input = {
      users: [
        { year: 1997, status: 0 },
        { year: 1998, status: 1 },
      ],
    };
    assert.deepEqual(sel('$.users[?(@.status == 0)]', input), [{ year: 1997, status: 0 }]);
  });

  it('does not mutate the document', () => {
    const doc = { a: [{ b: 1 }, { b: 2 }] };
    const before = JSON.stringify(doc);
    sel('$..b', doc);
    sel('$.a[?(@.b > 1)]', doc);
    assert.equal(JSON.stringify(doc), before);
  });
});

describe('compileReferencePath', () => {
  it('$ replaces the whole input', () => {
    assert.deepEqual(compileReferencePath('$').assign({ a: 1 }, 'x'), 'x');
    assert.deepEqual(compileReferencePath('$').assign('scalar', { b: 2 }), { b: 2 });
  });

  it('adds or replaces a key without mutating the input', () => {
    const input = { a: { keep: true, b: 1 }, other: [1] };
    const frozen = JSON.stringify(input);
    const out = compileReferencePath('$.a.b').assign(input, { r: 1 });
    assert.deepEqual(out, { a: { keep: true, b: { r: 1 } }, other: [1] });
    assert.equal(JSON.stringify(input), frozen);
    assert.notEqual((out as { a: unknown }).a, input.a);
    assert.equal((out as { other: unknown }).other, input.other, 'untouched branches are shared');
  });

  it('creates missing intermediate objects', () => {
    assert.deepEqual(compileReferencePath('$.x.y.z').assign({}, 1), { x: { y: { z: 1 } } });
    assert.deepEqual(compileReferencePath("$['a b'].c").assign({ d: 0 }, null), { d: 0, 'a b': { c: null } });
  });

  it('writes array elements by index', () => {
    const input = { a: [{ v: 1 }, { v: 2 }] };
    assert.deepEqual(compileReferencePath('$.a[1].w').assign(input, 3), { a: [{ v: 1 }, { v: 2, w: 3 }] });
    assert.deepEqual(compileReferencePath('$.a[0]').assign(input, 'x'), { a: ['x', { v: 2 }] });
    assert.deepEqual(input, { a: [{ v: 1 }, { v: 2 }] });
  });

  it('counts negative indices from the end, and goes through arrays of arrays', () => {
    const input = {
      a: [
        [1, 2],
        [3, { b: 4 }],
      ],
    };
    assert.deepEqual(compileReferencePath('$.a[-1][-1].c').assign(input, 5), {
      a: [
        [1, 2],
        [3, { b: 4, c: 5 }],
      ],
    });
    assert.deepEqual(compileReferencePath('$.a[0][1]').assign(input, 'x'), {
      a: [
        [1, 'x'],
        [3, { b: 4 }],
      ],
    });
    assert.deepEqual(input, {
      a: [
        [1, 2],
        [3, { b: 4 }],
      ],
    });
    assert.throws(() => compileReferencePath('$.a[-3]').assign(input, 1), ReferencePathError);
  });

  it('throws ReferencePathError when writing through a non-object', () => {
    const cases: [string, JsonValue][] = [
      ['$.a.b', { a: 'string' }],
      ['$.a.b', { a: 5 }],
      ['$.a.b', { a: null }],
      ['$.a.b', { a: [1] }],
      ['$.a', 'scalar input'],
      ['$.a', null],
      ['$.a[5]', { a: [1] }],
      ['$.a[0]', { a: {} }],
      ['$.a[0]', {}],
    ];
    for (const [p, input] of cases) {
      assert.throws(
        () => compileReferencePath(p).assign(input, 1),
        (e: unknown) => e instanceof ReferencePathError && e.path === p,
        `${p} on ${JSON.stringify(input)}`,
      );
    }
  });

  it('stores __proto__ as an own key', () => {
    const out = compileReferencePath("$['__proto__'].x").assign({}, 1) as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(({} as Record<string, unknown>).x, undefined);
    const input = JSON.parse('{"__proto__": {"p": 1}, "k": 0}') as JsonValue;
    const copied = compileReferencePath('$.k').assign(input, 2) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(copied), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(copied, '__proto__')?.value, { p: 1 });
    assert.equal(copied.k, 2);
  });

  it('rejects indefinite and non-input paths', () => {
    for (const p of [
      '$.a[*]',
      '$..a',
      '$.a[0:1]',
      '$.a[?(@.b)]',
      "$['a','b']",
      '$$.Execution',
      '$var.x',
      'a',
    ]) {
      assert.throws(() => compileReferencePath(p), PathSyntaxError, p);
    }
  });
});

describe('cause texts', () => {
  it('Invalid path … No results for path (recorded InputPath/OutputPath cases)', () => {
    const p = compilePath('$.NoSuchInputPath');
    assert.equal(
      pathNotFoundCause(p, { 'int-literal': 0 }),
      "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
    );
    assert.equal(
      pathNotFoundCause(compilePath('$.a[3]'), { a: [] }),
      "Invalid path '$.a[3]' : No results for path: $['a'][3]",
    );
    assert.equal(
      pathNotFoundCause(compilePath('$.a.b.c'), { x: 1 }),
      "Invalid path '$.a.b.c' : Missing property in path $['a']",
    );
  });

  it('payload path not found (recorded Parameters case)', () => {
    assert.equal(
      jsonPathNotFoundCause('$.no_such_jsonpath', 'value.$', { 'int-literal': 0 }),
      "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'",
    );
  });

  it('ResultPath match failure names the path and the input', () => {
    assert.equal(
      resultPathMatchFailureCause('$.a.b', { a: 'x' }),
      'Unable to apply ReplacePath \'$.a.b\' to input \'{"a":"x"}\'',
    );
  });
});
