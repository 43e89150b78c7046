/**
 * A synchronous evaluator for a subset of JSONata, exactly equivalent to the `jsonata` package
 * (2.2) on that subset. The expression is parsed by jsonata itself; its AST is compiled into
 * closures when every node is in the subset, and left to jsonata's (asynchronous) evaluator
 * otherwise.
 *
 * Exactness rule: the fast evaluator only produces results on jsonata's success paths, copied
 * from jsonata's source (path flattening, singleton unwrapping, `$string` number formatting…).
 * Whenever jsonata would raise an error, or whenever a value leaves the territory this module
 * models (a name bound to a function, an unknown variable, a sequence over the length limit…),
 * the fast evaluator throws, and the caller re-evaluates the expression with jsonata, which then
 * produces its own error code and message. Expressions in the subset are pure, so evaluating
 * them twice is unobservable.
 *
 * Subset: literals; `$states`, workflow variables; paths `$var.name.name…` (no predicates,
 * wildcards, `..`, `[]`, focus or index bindings); `+ - * / %`, `= != < <= > >=`, `and`, `or`,
 * `&`, `in`, unary minus; `? :`; blocks without bindings; array and object constructors (outside
 * paths); and calls of $string, $number, $boolean, $not, $exists, $count, $sum, $length,
 * $uppercase, $lowercase, $abs, $floor, $ceil, $merge with exactly one argument.
 */
import type { JsonataBindings, JsonataLimits } from './jsonata-bindings.js';

/** What a compiled expression returns: jsonata's raw result (possibly undefined). */
export type FastExpression = (b: JsonataBindings) => unknown;

/** Thrown to hand the evaluation to jsonata. Never escapes to callers of jsonata.ts. */
class HandBack extends Error {}
/** One shared instance: handing back costs no stack capture. */
const BAIL = new HandBack('jsonata-fast: evaluate with jsonata');

/** Deeper expressions stay with jsonata, whose `stack` guardrail counts evaluation depth. */
const MAX_AST_DEPTH = 64;

interface Ast {
  type?: unknown;
  value?: unknown;
  [key: string]: unknown;
}

type Ev = (b: JsonataBindings) => unknown;

function isAst(v: unknown): v is Ast {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * True when `node` has no property outside `allowed` (predicates, stages, groups, keepArray…);
 * properties holding undefined (the parser leaves `name` so on calls) count as absent.
 */
function only(node: Ast, allowed: readonly string[]): boolean {
  for (const k of Object.keys(node)) if (node[k] !== undefined && !allowed.includes(k)) return false;
  return true;
}

const LEAF = ['type', 'value', 'position'] as const;

// ---------------------------------------------------------------------------------------------
// jsonata's value helpers (utils.js / functions.js), copied

/** utils.isNumeric: a non-NaN number; throws (D1001) on ±Infinity. */
function isNumeric(n: unknown): n is number {
  if (typeof n !== 'number') return false;
  if (Number.isNaN(n)) return false;
  if (!Number.isFinite(n)) throw BAIL;
  return true;
}

/** utils.isFunction. */
function isFunction(v: unknown): boolean {
  if (typeof v === 'function') return true;
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o._jsonata_function === true || o._jsonata_lambda === true;
}

/** utils.isDeepEqual. */
function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs === 'object' && typeof rhs === 'object' && lhs !== null && rhs !== null) {
    if (Array.isArray(lhs) && Array.isArray(rhs)) {
      if (lhs.length !== rhs.length) return false;
      for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
      return true;
    }
    const l = lhs as Record<string, unknown>;
    const r = rhs as Record<string, unknown>;
    const lkeys = Object.getOwnPropertyNames(l).sort();
    const rkeys = Object.getOwnPropertyNames(r).sort();
    if (lkeys.length !== rkeys.length) return false;
    for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
    for (const k of lkeys) if (!isDeepEqual(l[k], r[k])) return false;
    return true;
  }
  return false;
}

/** functions.boolean. */
function toBoolean(arg: unknown): boolean | undefined {
  if (arg === undefined) return undefined;
  if (Array.isArray(arg)) {
    if (arg.length === 1) return toBoolean(arg[0]);
    if (arg.length > 1) return arg.filter((x) => toBoolean(x)).length > 0;
    return false;
  }
  if (typeof arg === 'string') return arg.length > 0;
  if (isNumeric(arg)) return arg !== 0;
  if (arg !== null && typeof arg === 'object' && !isFunction(arg)) return Object.keys(arg).length > 0;
  return arg === true;
}

/** evaluateBooleanExpression's boolize. */
function boolize(v: unknown): boolean {
  return toBoolean(v) ?? false;
}

/** functions.string (without prettify). */
function toStr(arg: unknown): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  if (isFunction(arg)) return '';
  if (typeof arg === 'number') {
    if (!Number.isFinite(arg)) throw BAIL; // D3001
    // What JSON.stringify below gives a lone finite number (-0 included: "0").
    return String(Number.isInteger(arg) ? arg : Number(arg.toPrecision(15)));
  }
  return JSON.stringify(arg, (_key, val: unknown) => {
    if (val !== undefined && val !== null && isNumeric(val)) {
      return !Number.isInteger(val) ? Number(val.toPrecision(15)) : val;
    }
    return val && isFunction(val) ? '' : val;
  });
}

const NUMBER_DECIMAL = /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/;
const NUMBER_PREFIXED = /^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/;

/** functions.number, after its `<(nsb)-:n>` signature check. */
function toNumber(arg: unknown): number | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'string') {
    if (NUMBER_DECIMAL.test(arg) && !Number.isNaN(parseFloat(arg)) && Number.isFinite(Number(arg))) {
      return parseFloat(arg);
    }
    if (NUMBER_PREFIXED.test(arg)) return Number(arg);
    throw BAIL; // D3030
  }
  if (arg === true) return 1;
  if (arg === false) return 0;
  throw BAIL; // T0410
}

/** The symbol jsonata's signature checker gives a value. */
function symbolOf(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 's';
    case 'number':
      return 'n';
    case 'boolean':
      return 'b';
    case 'object':
      return v === null ? 'l' : isFunction(v) ? 'f' : Array.isArray(v) ? 'a' : 'o';
    case 'function':
      return 'f';
    case 'undefined':
    case 'bigint':
    case 'symbol':
      return 'm';
  }
}

/** An argument of signature type `a<t>`: undefined, a lone `t` (wrapped), or an array of `t`s. */
function arrayOf(arg: unknown, t: string): unknown[] | undefined {
  const s = symbolOf(arg);
  if (s === 'm') return undefined;
  if (s !== 'a') {
    if (s !== t) throw BAIL; // T0412
    return [arg];
  }
  const arr = arg as unknown[];
  if (arr.length > 0) {
    const first = symbolOf(arr[0]);
    if (first !== t) throw BAIL;
    for (let i = 1; i < arr.length; i++) if (symbolOf(arr[i]) !== first) throw BAIL;
  }
  return arr;
}

/** A `<s-:…>` / `<n-:…>` argument: that type or undefined. */
function checkArg(arg: unknown, t: 's' | 'n'): void {
  const s = symbolOf(arg);
  if (s !== t && s !== 'm') throw BAIL; // T0410
}

/** One-argument built-ins, each with its signature check folded in. */
const FUNCTIONS: Readonly<Record<string, (arg: unknown) => unknown>> = {
  string: (a) => toStr(a),
  number: (a) => toNumber(a),
  boolean: (a) => toBoolean(a),
  not: (a) => (a === undefined ? undefined : !toBoolean(a)),
  exists: (a) => a !== undefined,
  count: (a) => {
    if (isFunction(a)) throw BAIL;
    return a === undefined ? 0 : Array.isArray(a) ? a.length : 1;
  },
  sum: (a) => {
    const arr = arrayOf(a, 'n');
    if (arr === undefined) return undefined;
    let total = 0;
    for (const x of arr) total += x as number;
    return total;
  },
  length: (a) => {
    checkArg(a, 's');
    if (a === undefined) return undefined;
    let n = 0;
    for (const _ of a as string) n++;
    return n;
  },
  uppercase: (a) => {
    checkArg(a, 's');
    return a === undefined ? undefined : (a as string).toUpperCase();
  },
  lowercase: (a) => {
    checkArg(a, 's');
    return a === undefined ? undefined : (a as string).toLowerCase();
  },
  abs: (a) => {
    checkArg(a, 'n');
    return a === undefined ? undefined : Math.abs(a as number);
  },
  floor: (a) => {
    checkArg(a, 'n');
    return a === undefined ? undefined : Math.floor(a as number);
  },
  ceil: (a) => {
    checkArg(a, 'n');
    return a === undefined ? undefined : Math.ceil(a as number);
  },
  merge: (a) => {
    const arr = arrayOf(a, 'o');
    if (arr === undefined) return undefined;
    // An ordinary object, as jsonata builds (so results need no copy, see jsonata.ts); a
    // `__proto__` key, which jsonata's assignment turns into a prototype, stays with jsonata.
    for (let i = 0; i < arr.length; i++) if (Object.hasOwn(arr[i] as object, '__proto__')) throw BAIL;
    if (arr.length === 0) return {};
    // A spread clones the first object's shape in one go; the others are assigned onto it.
    const out: Record<string, unknown> = { ...(arr[0] as object) };
    for (let i = 1; i < arr.length; i++) Object.assign(out, arr[i]);
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Variables and paths

/**
 * `$name`: `$states`, else a workflow variable. Anything else (an unbound name, a built-in or
 * registered function, `$eval`) goes to jsonata.
 */
function variable(name: string): Ev {
  if (name === 'states') return (b) => b.states;
  return (b) => {
    const vars = b.variables;
    if (vars === undefined) throw BAIL;
    const v = vars.get(name);
    if (v === undefined) throw BAIL;
    return v;
  };
}

/** functions.lookup, without the final singleton unwrapping. */
function lookup(input: unknown, key: string, maxSequence: number): unknown {
  if (Array.isArray(input)) {
    const out: unknown[] = [];
    for (const item of input) {
      const r = lookup(item, key, maxSequence);
      if (r === undefined) continue;
      if (Array.isArray(r)) for (const x of r) out.push(x);
      else out.push(r);
    }
    if (out.length > maxSequence) throw BAIL; // D2015
    return out;
  }
  if (input !== null && typeof input === 'object' && !isFunction(input)) {
    const v = (input as Record<string, unknown>)[key];
    // An inherited member (`toString`, `constructor`…) is a function: jsonata's territory.
    if (typeof v === 'function') throw BAIL;
    return v;
  }
  return undefined;
}

/** evaluateName: a lookup, with evaluate()'s unwrapping of the sequence an array input gives. */
function step(input: unknown, key: string, maxSequence: number): unknown {
  const r = lookup(input, key, maxSequence);
  if (Array.isArray(input)) {
    const seq = r as unknown[];
    return seq.length === 0 ? undefined : seq.length === 1 ? seq[0] : seq;
  }
  return r;
}

/**
 * evaluatePath for `$var.n1.n2…nk` (k ≥ 1). A singleton result that is an array of the data is
 * returned as is (evaluateStep's last-step rule); a sequence of one item unwraps to the item.
 * Where jsonata keeps a result as a sequence and here it stays a plain array (or the reverse),
 * it has two or more items, so nothing downstream in the subset tells them apart.
 */
function path(head: Ev, names: readonly string[], maxSequence: number): Ev {
  const last = names.length - 1;
  const general = sequencePath(head, names, maxSequence);
  return (b) => {
    // Through single objects (the usual case) no sequence is built: each name is one lookup.
    // At the first array (other than the last step's value) the general walk takes over.
    let v = head(b);
    for (let i = 0; i <= last; i++) {
      if (v === undefined) return undefined;
      if (Array.isArray(v)) return general(b);
      v = step(v, names[i]!, maxSequence);
    }
    return v;
  };
}

/** evaluatePath over sequences: the general case of `path`. */
function sequencePath(head: Ev, names: readonly string[], maxSequence: number): Ev {
  const last = names.length - 1;
  return (b) => {
    const v0 = head(b);
    if (v0 === undefined) return undefined;
    let seq: readonly unknown[] = Array.isArray(v0) ? v0 : [v0];
    if (seq.length > maxSequence) throw BAIL;
    for (let i = 0; i <= last; i++) {
      const key = names[i]!;
      const results: unknown[] = [];
      for (const item of seq) {
        const r = step(item, key, maxSequence);
        if (r !== undefined) results.push(r);
      }
      if (i === last && results.length === 1 && Array.isArray(results[0])) return results[0] as unknown[];
      const next: unknown[] = [];
      for (const r of results) {
        if (Array.isArray(r)) for (const x of r) next.push(x);
        else next.push(r);
      }
      if (next.length > maxSequence) throw BAIL;
      if (next.length === 0) return undefined;
      seq = next;
    }
    return seq.length === 1 ? seq[0] : seq;
  };
}

// ---------------------------------------------------------------------------------------------
// Operators

function arithmetic(op: string, lhs: Ev, rhs: Ev): Ev {
  const compute = (l: number, r: number): number => {
    switch (op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '/':
        return l / r;
      default:
        return l % r;
    }
  };
  return (b) => {
    const l = lhs(b);
    const r = rhs(b);
    if (l !== undefined && !isNumeric(l)) throw BAIL; // T2001
    if (r !== undefined && !isNumeric(r)) throw BAIL; // T2002
    if (l === undefined || r === undefined) return undefined;
    return compute(l, r);
  };
}

function comparison(op: string, lhs: Ev, rhs: Ev): Ev {
  return (b) => {
    const l = lhs(b);
    const r = rhs(b);
    const lt = typeof l;
    const rt = typeof r;
    const lok = lt === 'undefined' || lt === 'string' || lt === 'number';
    const rok = rt === 'undefined' || rt === 'string' || rt === 'number';
    if (!lok || !rok) throw BAIL; // T2010
    if (l === undefined || r === undefined) return undefined;
    if (lt !== rt) throw BAIL; // T2009
    const a = l as number;
    const c = r as number;
    switch (op) {
      case '<':
        return a < c;
      case '<=':
        return a <= c;
      case '>':
        return a > c;
      default:
        return a >= c;
    }
  };
}

function binary(op: string, lhs: Ev, rhs: Ev): Ev | undefined {
  switch (op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, lhs, rhs);
    case '=':
      return (b) => {
        const l = lhs(b);
        const r = rhs(b);
        return l === undefined || r === undefined ? false : isDeepEqual(l, r);
      };
    case '!=':
      return (b) => {
        const l = lhs(b);
        const r = rhs(b);
        return l === undefined || r === undefined ? false : !isDeepEqual(l, r);
      };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return comparison(op, lhs, rhs);
    case 'and':
      return (b) => boolize(lhs(b)) && boolize(rhs(b));
    case 'or':
      return (b) => boolize(lhs(b)) || boolize(rhs(b));
    case '&':
      return (b) => {
        const l = lhs(b);
        const r = rhs(b);
        return (l === undefined ? '' : toStr(l)!) + (r === undefined ? '' : toStr(r)!);
      };
    case 'in':
      return (b) => {
        const l = lhs(b);
        const r = rhs(b);
        if (l === undefined || r === undefined) return false;
        const arr = Array.isArray(r) ? r : [r];
        for (const x of arr) if (x === l) return true;
        return false;
      };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation

interface Compiler {
  maxSequence: number;
}

function compileList(nodes: unknown, depth: number, c: Compiler): Ev[] | undefined {
  if (!Array.isArray(nodes)) return undefined;
  const out: Ev[] = [];
  for (const n of nodes) {
    const ev = compile(n, depth, c);
    if (ev === undefined) return undefined;
    out.push(ev);
  }
  return out;
}

function isPlainVariable(n: unknown): n is Ast & { value: string } {
  return (
    isAst(n) &&
    n.type === 'variable' &&
    only(n, LEAF) &&
    typeof n.value === 'string' &&
    n.value !== '' &&
    n.value !== '$' &&
    n.value !== '__proto__'
  );
}

function compile(node: unknown, depth: number, c: Compiler): Ev | undefined {
  if (!isAst(node) || depth > MAX_AST_DEPTH) return undefined;
  const d = depth + 1;
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      if (!only(node, LEAF)) return undefined;
      const v = node.value;
      if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
      return () => v;
    }
    case 'variable':
      return isPlainVariable(node) ? variable(node.value) : undefined;
    case 'path': {
      if (!only(node, ['type', 'steps', 'position'])) return undefined;
      const steps = node.steps;
      if (!Array.isArray(steps) || steps.length < 2 || !isPlainVariable(steps[0])) return undefined;
      const names: string[] = [];
      for (const s of steps.slice(1) as unknown[]) {
        if (!isAst(s) || s.type !== 'name' || !only(s, LEAF)) return undefined;
        if (typeof s.value !== 'string' || s.value === '__proto__') return undefined;
        names.push(s.value);
      }
      return path(variable(steps[0].value), names, c.maxSequence);
    }
    case 'binary': {
      if (!only(node, ['type', 'value', 'position', 'lhs', 'rhs'])) return undefined;
      const lhs = compile(node.lhs, d, c);
      const rhs = compile(node.rhs, d, c);
      if (lhs === undefined || rhs === undefined || typeof node.value !== 'string') return undefined;
      return binary(node.value, lhs, rhs);
    }
    case 'unary':
      return compileUnary(node, d, c);
    case 'condition': {
      if (!only(node, ['type', 'position', 'condition', 'then', 'else'])) return undefined;
      const cond = compile(node.condition, d, c);
      const then = compile(node.then, d, c);
      const otherwise = node.else === undefined ? () => undefined : compile(node.else, d, c);
      if (cond === undefined || then === undefined || otherwise === undefined) return undefined;
      return (b) => (toBoolean(cond(b)) ? then(b) : otherwise(b));
    }
    case 'block': {
      if (!only(node, ['type', 'position', 'expressions'])) return undefined;
      const exprs = compileList(node.expressions, d, c);
      if (exprs === undefined) return undefined;
      if (exprs.length === 1) return exprs[0];
      return (b) => {
        let r: unknown;
        for (const e of exprs) r = e(b);
        return r;
      };
    }
    case 'function': {
      if (!only(node, ['type', 'value', 'position', 'arguments', 'procedure'])) return undefined;
      const proc = node.procedure;
      if (!isPlainVariable(proc) || !Object.hasOwn(FUNCTIONS, proc.value)) return undefined;
      const args = compileList(node.arguments, d, c);
      if (args?.length !== 1) return undefined;
      const name = proc.value;
      const impl = FUNCTIONS[name]!;
      const arg = args[0]!;
      return (b) => {
        // A workflow variable of that name shadows the built-in.
        if (b.variables?.has(name)) throw BAIL;
        return impl(arg(b));
      };
    }
    default:
      return undefined;
  }
}

function compileUnary(node: Ast, d: number, c: Compiler): Ev | undefined {
  switch (node.value) {
    case '-': {
      if (!only(node, ['type', 'value', 'position', 'expression'])) return undefined;
      const e = compile(node.expression, d, c);
      if (e === undefined) return undefined;
      return (b) => {
        const v = e(b);
        if (v === undefined) return undefined;
        if (!isNumeric(v)) throw BAIL; // D1002
        return -v;
      };
    }
    case '[': {
      if (!only(node, ['type', 'value', 'position', 'expressions'])) return undefined;
      const items = compileList(node.expressions, d, c);
      if (items === undefined) return undefined;
      // An item that is itself an array constructor is kept whole; any other array is spliced
      // in (fn.append), as is a sequence.
      const nested = (node.expressions as Ast[]).map((x) => x.value === '[');
      const max = c.maxSequence;
      return (b) => {
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          const v = items[i]!(b);
          if (v === undefined) continue;
          if (nested[i]) out.push(v);
          else if (Array.isArray(v)) {
            if (out.length + v.length > max) throw BAIL; // D2015
            for (const x of v) out.push(x);
          } else {
            if (out.length + 1 > max) throw BAIL;
            out.push(v);
          }
        }
        return out;
      };
    }
    case '{': {
      if (!only(node, ['type', 'value', 'position', 'lhs'])) return undefined;
      const pairs = node.lhs;
      if (!Array.isArray(pairs)) return undefined;
      const keys: Ev[] = [];
      const values: Ev[] = [];
      for (const p of pairs as unknown[]) {
        if (!Array.isArray(p) || p.length !== 2) return undefined;
        const k = compile(p[0], d, c);
        const v = compile(p[1], d, c);
        if (k === undefined || v === undefined) return undefined;
        keys.push(k);
        values.push(v);
      }
      const names = literalKeys(pairs as unknown[][]);
      if (names !== undefined) {
        // Distinct literal keys (the usual case): no grouping to do at run time. Inserting in
        // source order gives jsonata's key order (integer-like keys first, as in any object).
        // Values are filled into a copy of a template holding every key (one object shape per
        // constructor, cloned in one go); a value that is undefined drops its key, as jsonata
        // does, on the slower way of adding keys one by one.
        const keys: readonly string[] = names;
        const template = Object.fromEntries(keys.map((n) => [n, null])) as Record<string, unknown>;
        const count = keys.length;
        return (b) => {
          const out = { ...template };
          for (let i = 0; i < count; i++) {
            const v = values[i]!(b);
            if (v === undefined) return sparse(b, i, out);
            out[keys[i]!] = v;
          }
          return out;
        };
        /** The values before `from` are in `partial`; the one at `from` was undefined. */
        function sparse(
          b: JsonataBindings,
          from: number,
          partial: Record<string, unknown>,
        ): Record<string, unknown> {
          const out: Record<string, unknown> = {};
          for (let i = 0; i < from; i++) out[keys[i]!] = partial[keys[i]!];
          for (let i = from + 1; i < count; i++) {
            const v = values[i]!(b);
            if (v !== undefined) out[keys[i]!] = v;
          }
          return out;
        }
      }
      return (b) => {
        // evaluateGroupExpression over a single (undefined) input item.
        const groups = Object.create(null) as Record<string, number>;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!(b);
          if (key === undefined) continue;
          if (typeof key !== 'string') throw BAIL; // T1003
          if (key === '_jsonata_lambda' || key === '_jsonata_function') throw BAIL; // D1013
          if (Object.hasOwn(groups, key)) throw BAIL; // D1009 (one item: always another pair)
          groups[key] = i;
        }
        if (Object.hasOwn(groups, '__proto__')) throw BAIL; // see merge
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(groups)) {
          const v = values[groups[key]!]!(b);
          if (v !== undefined) out[key] = v;
        }
        return out;
      };
    }
    default:
      return undefined;
  }
}

/**
 * The keys of an object constructor when all are distinct string literals that need none of
 * jsonata's checks (`__proto__` and its function markers stay on the general path).
 */
function literalKeys(pairs: readonly unknown[][]): string[] | undefined {
  const names: string[] = [];
  for (const p of pairs) {
    const k = p[0];
    if (!isAst(k) || k.type !== 'string' || typeof k.value !== 'string') return undefined;
    const name = k.value;
    if (name === '__proto__' || name === '_jsonata_lambda' || name === '_jsonata_function') return undefined;
    if (names.includes(name)) return undefined;
    names.push(name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Results that need no copy

/** Built-ins whose result is always a string, a boolean, a safe integer or undefined. */
const PLAIN_FUNCTIONS = new Set([
  'string',
  'boolean',
  'not',
  'exists',
  'count',
  'length',
  'uppercase',
  'lowercase',
]);

/**
 * Whether an expression the subset compiles always yields plain JSON (or undefined) when the
 * data it reads is plain JSON: what `toJson` would return unchanged, so the caller need not walk
 * the result to check. Data passes through paths and variables as it is; constructors and
 * `$merge` build ordinary objects and arrays from it. Numbers computed here can be NaN, ±Infinity
 * or -0 (`1/0`, `$ceil(-0.5)`), and the bare `$states` holds a getter: those are not plain.
 */
export function yieldsPlainJson(node: unknown): boolean {
  if (!isAst(node)) return false;
  switch (node.type) {
    case 'string':
    case 'value':
      return true;
    case 'number':
      return typeof node.value === 'number' && Number.isFinite(node.value) && !Object.is(node.value, -0);
    case 'variable':
      return node.value !== 'states';
    case 'path':
      // Always at least one name after the head: never `$states` itself.
      return true;
    case 'binary':
      // Comparisons, `and`, `or`, `in` give booleans; `&` a string.
      return !['+', '-', '*', '/', '%'].includes(String(node.value));
    case 'condition':
      return yieldsPlainJson(node.then) && (node.else === undefined || yieldsPlainJson(node.else));
    case 'block': {
      const exprs = node.expressions;
      return Array.isArray(exprs) && yieldsPlainJson(exprs[exprs.length - 1]);
    }
    case 'function': {
      const name = isAst(node.procedure) ? String(node.procedure.value) : '';
      const args = node.arguments;
      if (PLAIN_FUNCTIONS.has(name)) return true;
      return name === 'merge' && Array.isArray(args) && yieldsPlainJson(args[0]);
    }
    case 'unary':
      if (node.value === '[')
        return Array.isArray(node.expressions) && node.expressions.every(yieldsPlainJson);
      if (node.value === '{')
        return Array.isArray(node.lhs) && (node.lhs as unknown[][]).every((p) => yieldsPlainJson(p[1]));
      return false;
    default:
      return false;
  }
}

/**
 * Compiles a jsonata AST (from `jsonata(text).ast()`) when it lies in the subset; undefined
 * otherwise. The result throws whenever jsonata must decide (errors included): the caller then
 * evaluates with jsonata.
 */
export function compileFastJsonata(
  ast: unknown,
  limits: Pick<JsonataLimits, 'maxSequence'>,
): FastExpression | undefined {
  const ev = compile(ast, 0, { maxSequence: limits.maxSequence });
  if (ev === undefined) return undefined;
  return (b) => {
    const vars = b.variables;
    // jsonata binds variables into a plain object: these two names break its lookups.
    if (vars !== undefined && (vars.has('hasOwnProperty') || vars.has('__proto__'))) throw BAIL;
    return ev(b);
  };
}
