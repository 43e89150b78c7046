/**
 * Choice rules (JSONPath query language): compiled once per definition, evaluated on every pass
 * through the Choice state, so evaluation allocates nothing of its own.
 *
 * AWS semantics reproduced here:
 * - a value of the wrong type for the operator (StringEquals on a number, TimestampEquals on a
 *   string that is not a timestamp, …) makes the comparison false, never an error;
 * - a `Variable` that selects nothing fails the state with States.Runtime, except for IsPresent
 *   (that is its purpose); the same holds for the comparand path of a `…Path` operator;
 * - strings compare by UTF-16 code unit (Java's String.compareTo, which JS `<` matches);
 * - numbers compare by value (1 equals 1.0);
 * - timestamps compare as instants, to the nanosecond.
 */
import { DefinitionError, StatesErrors, StatesRuntimeError } from './errors.js';
import type { JsonValue } from './json.js';
import { getOwn, isJsonObject } from './json.js';
import type { CompiledPath, PathEnv } from './jsonpath.js';
import { compilePath } from './jsonpath.js';
import type { TimestampParts } from './timestamp.js';
import { compareTimestampParts, isRfc3339Timestamp, parseTimestampInto } from './timestamp.js';

export interface CompiledChoiceRule {
  evaluate(env: PathEnv): boolean;
}

/** Cause text of the States.Runtime failure for a path that selects nothing (the caller prefixes the state). */
export function invalidChoicePathCause(path: string): string {
  return `Invalid path '${path}': The choice state's condition path references an invalid value.`;
}

type Kind = 'String' | 'Numeric' | 'Boolean' | 'Timestamp';
type Relation = 'Equals' | 'LessThan' | 'GreaterThan' | 'LessThanEquals' | 'GreaterThanEquals' | 'Matches';
type TypeTest = 'IsNull' | 'IsPresent' | 'IsNumeric' | 'IsString' | 'IsBoolean' | 'IsTimestamp';

interface ComparisonOp {
  kind: Kind;
  relation: Relation;
  usesPath: boolean;
}

/** Every data-test operator name AWS defines (StringMatches has no …Path form). */
const COMPARISONS = new Map<string, ComparisonOp>();
for (const kind of ['String', 'Numeric', 'Boolean', 'Timestamp'] as const) {
  const relations: Relation[] =
    kind === 'Boolean'
      ? ['Equals']
      : ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];
  for (const relation of relations) {
    COMPARISONS.set(kind + relation, { kind, relation, usesPath: false });
    COMPARISONS.set(kind + relation + 'Path', { kind, relation, usesPath: true });
  }
}
COMPARISONS.set('StringMatches', { kind: 'String', relation: 'Matches', usesPath: false });

const TYPE_TESTS: ReadonlySet<string> = new Set<TypeTest>([
  'IsNull',
  'IsPresent',
  'IsNumeric',
  'IsString',
  'IsBoolean',
  'IsTimestamp',
]);

/** Keys of a top-level rule read by the Choice state itself, not by the rule. */
const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(['Next', 'Assign', 'Comment']);

// Scratch instants for timestamp comparisons (evaluation is synchronous, so sharing is safe).
const tsA: TimestampParts = { epochSeconds: 0, nanos: 0 };
const tsB: TimestampParts = { epochSeconds: 0, nanos: 0 };

/** Maps a three-way comparison result onto the relation. */
function holds(relation: Relation, cmp: number): boolean {
  switch (relation) {
    case 'Equals':
      return cmp === 0;
    case 'LessThan':
      return cmp < 0;
    case 'GreaterThan':
      return cmp > 0;
    case 'LessThanEquals':
      return cmp <= 0;
    case 'GreaterThanEquals':
      return cmp >= 0;
    case 'Matches':
      return false; // handled by MatchesRule
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class AndRule implements CompiledChoiceRule {
  constructor(private readonly rules: CompiledChoiceRule[]) {}
  evaluate(env: PathEnv): boolean {
    for (const r of this.rules) if (!r.evaluate(env)) return false;
    return true;
  }
}

class OrRule implements CompiledChoiceRule {
  constructor(private readonly rules: CompiledChoiceRule[]) {}
  evaluate(env: PathEnv): boolean {
    for (const r of this.rules) if (r.evaluate(env)) return true;
    return false;
  }
}

class NotRule implements CompiledChoiceRule {
  constructor(private readonly rule: CompiledChoiceRule) {}
  evaluate(env: PathEnv): boolean {
    return !this.rule.evaluate(env);
  }
}

/** Reads `Variable`; a missing value is a run-time failure for every operator but IsPresent. */
function selectVariable(path: CompiledPath, env: PathEnv): JsonValue {
  const v = path.select(env);
  if (v === undefined)
    throw new StatesRuntimeError(StatesErrors.Runtime, invalidChoicePathCause(path.source));
  return v;
}

class TypeTestRule implements CompiledChoiceRule {
  constructor(
    private readonly variable: CompiledPath,
    private readonly test: TypeTest,
    private readonly expected: boolean,
  ) {}
  evaluate(env: PathEnv): boolean {
    if (this.test === 'IsPresent') return (this.variable.select(env) !== undefined) === this.expected;
    const v = selectVariable(this.variable, env);
    let is: boolean;
    switch (this.test) {
      case 'IsNull':
        is = v === null;
        break;
      case 'IsNumeric':
        is = typeof v === 'number';
        break;
      case 'IsString':
        is = typeof v === 'string';
        break;
      case 'IsBoolean':
        is = typeof v === 'boolean';
        break;
      case 'IsTimestamp':
        is = typeof v === 'string' && parseTimestampInto(v, tsA);
        break;
    }
    return is === this.expected;
  }
}

class StringRule implements CompiledChoiceRule {
  constructor(
    private readonly variable: CompiledPath,
    private readonly relation: Relation,
    private readonly literal: string,
  ) {}
  evaluate(env: PathEnv): boolean {
    const v = selectVariable(this.variable, env);
    return typeof v === 'string' && holds(this.relation, compareStrings(v, this.literal));
  }
}

class NumericRule implements CompiledChoiceRule {
  constructor(
    private readonly variable: CompiledPath,
    private readonly relation: Relation,
    private readonly literal: number,
  ) {}
  evaluate(env: PathEnv): boolean {
    const v = selectVariable(this.variable, env);
    return typeof v === 'number' && holds(this.relation, v - this.literal);
  }
}

class BooleanRule implements CompiledChoiceRule {
  constructor(
    private readonly variable: CompiledPath,
    private readonly literal: boolean,
  ) {}
  evaluate(env: PathEnv): boolean {
    return selectVariable(this.variable, env) === this.literal;
  }
}

class TimestampRule implements CompiledChoiceRule {
  private readonly literal: TimestampParts = { epochSeconds: 0, nanos: 0 };
  constructor(
    private readonly variable: CompiledPath,
    private readonly relation: Relation,
    literal: string,
  ) {
    parseTimestampInto(literal, this.literal);
  }
  evaluate(env: PathEnv): boolean {
    const v = selectVariable(this.variable, env);
    return (
      typeof v === 'string' &&
      parseTimestampInto(v, tsA) &&
      holds(this.relation, compareTimestampParts(tsA, this.literal))
    );
  }
}

/** Both sides read from data: type checks apply to each. */
class PathComparisonRule implements CompiledChoiceRule {
  constructor(
    private readonly variable: CompiledPath,
    private readonly kind: Kind,
    private readonly relation: Relation,
    private readonly comparand: CompiledPath,
  ) {}
  evaluate(env: PathEnv): boolean {
    const a = selectVariable(this.variable, env);
    const b = selectVariable(this.comparand, env);
    switch (this.kind) {
      case 'String':
        return typeof a === 'string' && typeof b === 'string' && holds(this.relation, compareStrings(a, b));
      case 'Numeric':
        return typeof a === 'number' && typeof b === 'number' && holds(this.relation, a - b);
      case 'Boolean':
        return typeof a === 'boolean' && a === b;
      case 'Timestamp':
        return (
          typeof a === 'string' &&
          typeof b === 'string' &&
          parseTimestampInto(a, tsA) &&
          parseTimestampInto(b, tsB) &&
          holds(this.relation, compareTimestampParts(tsA, tsB))
        );
    }
  }
}

/**
 * StringMatches: `*` matches any run of characters (including none); `\*` is a literal `*` and
 * `\\` a literal `\`. Nothing else is special. The pattern is split at compile time into literal
 * segments between stars, then matched greedily-leftmost, which is exact for star-only globs.
 */
class MatchesRule implements CompiledChoiceRule {
  /** Literal runs between stars: a leading/trailing star leaves an empty first/last run. */
  private readonly segments: string[];
  constructor(
    private readonly variable: CompiledPath,
    pattern: string,
  ) {
    const segments: string[] = [];
    let cur = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
        cur += pattern[++i]!;
      } else if (c === '*') {
        segments.push(cur);
        cur = '';
      } else {
        cur += c;
      }
    }
    segments.push(cur);
    this.segments = segments;
  }
  evaluate(env: PathEnv): boolean {
    const v = selectVariable(this.variable, env);
    return typeof v === 'string' && this.matches(v);
  }
  private matches(s: string): boolean {
    const segs = this.segments;
    const last = segs.length - 1;
    if (last === 0) return s === segs[0]; // no star
    const first = segs[0]!;
    const tail = segs[last]!;
    if (!s.startsWith(first)) return false;
    if (s.length - first.length < tail.length || !s.endsWith(tail)) return false;
    let pos = first.length;
    const end = s.length - tail.length;
    for (let k = 1; k < last; k++) {
      const seg = segs[k]!;
      if (seg === '') continue;
      const at = s.indexOf(seg, pos);
      if (at < 0 || at + seg.length > end) return false;
      pos = at + seg.length;
    }
    return true;
  }
}

function fail(message: string, pointer: string): never {
  throw new DefinitionError(message, pointer);
}

function compilePathField(value: JsonValue, field: string, pointer: string): CompiledPath {
  if (typeof value !== 'string') fail(`Expected value of type String`, pointer);
  try {
    return compilePath(value);
  } catch {
    return fail(`The value for the field '${field}' must be a valid JSONPath`, pointer);
  }
}

function compileRule(rule: JsonValue, pointer: string, topLevel: boolean): CompiledChoiceRule {
  if (!isJsonObject(rule)) fail('Expected value of type Object', pointer);

  let op: string | undefined;
  for (const key of Object.keys(rule)) {
    if (key === 'Variable' || key === 'Comment' || (topLevel && TOP_LEVEL_KEYS.has(key))) continue;
    if (key === 'And' || key === 'Or' || key === 'Not' || COMPARISONS.has(key) || TYPE_TESTS.has(key)) {
      if (op !== undefined)
        fail(`A choice rule can have only one operator, found '${op}' and '${key}'`, pointer);
      op = key;
      continue;
    }
    fail(`The field '${key}' is not supported by Step Functions`, `${pointer}/${escapePointer(key)}`);
  }
  if (op === undefined) fail('A choice rule must have one comparison operator or And, Or, Not', pointer);

  const operand = getOwn(rule, op)!;
  const opPointer = `${pointer}/${op}`;
  const variableField = getOwn(rule, 'Variable');

  if (op === 'And' || op === 'Or' || op === 'Not') {
    if (variableField !== undefined)
      fail(`The field 'Variable' cannot be used with '${op}'`, `${pointer}/Variable`);
    if (op === 'Not') return new NotRule(compileRule(operand, opPointer, false));
    if (!Array.isArray(operand)) fail('Expected value of type Array', opPointer);
    if (operand.length === 0) fail(`'${op}' must have at least one choice rule`, opPointer);
    const children = operand.map((r, i) => compileRule(r, `${opPointer}/${i}`, false));
    return op === 'And' ? new AndRule(children) : new OrRule(children);
  }

  if (variableField === undefined) fail('These fields are required: [Variable]', pointer);
  const variable = compilePathField(variableField, 'Variable', `${pointer}/Variable`);

  if (TYPE_TESTS.has(op)) {
    if (typeof operand !== 'boolean') fail('Expected value of type Boolean', opPointer);
    return new TypeTestRule(variable, op as TypeTest, operand);
  }

  const cmp = COMPARISONS.get(op)!;
  if (cmp.usesPath) {
    return new PathComparisonRule(variable, cmp.kind, cmp.relation, compilePathField(operand, op, opPointer));
  }
  switch (cmp.kind) {
    case 'String':
      if (typeof operand !== 'string') fail('Expected value of type String', opPointer);
      return cmp.relation === 'Matches'
        ? new MatchesRule(variable, operand)
        : new StringRule(variable, cmp.relation, operand);
    case 'Numeric':
      if (typeof operand !== 'number') fail('Expected value of type Number', opPointer);
      return new NumericRule(variable, cmp.relation, operand);
    case 'Boolean':
      if (typeof operand !== 'boolean') fail('Expected value of type Boolean', opPointer);
      return new BooleanRule(variable, operand);
    case 'Timestamp':
      if (typeof operand !== 'string') fail('Expected value of type String', opPointer);
      if (!isRfc3339Timestamp(operand)) fail('String does not match RFC3339 timestamp', opPointer);
      return new TimestampRule(variable, cmp.relation, operand);
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Compiles one top-level Choice rule (an element of `Choices`). `Next`, `Assign` and `Comment`
 * are left to the caller. Throws DefinitionError for malformed rules; `pointer` locates the rule.
 */
export function compileChoiceRule(rule: JsonValue, pointer: string): CompiledChoiceRule {
  return compileRule(rule, pointer, true);
}
