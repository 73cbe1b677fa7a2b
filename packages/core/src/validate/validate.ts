/**
 * `validateVersion(doc)`: every problem of a workflow document (a version or a draft) at once. It never
 * throws, for any value at all, and hostile input is bounded by VALIDATION_LIMITS. The passes:
 * 1. snapshot: copy the input into plain JSON data (NOT_JSON, LIMIT on depth and size);
 * 2. the document's own fields against the schema (MISSING_FIELD, INVALID_TYPE, INVALID_VALUE);
 * 3. each step, in order: its shape (by `type`), its type, its key, its expressions and templates, the
 *    platform fields Weft does not honour (platform.ts: UNSUPPORTED_FIELD), its destinations;
 * 4. the graph: cycles, no runnable step, unreachable steps.
 * Every rule is listed, with an example document, in docs/errors.md.
 */
import type { Problem } from '../errors.js';
import type { ExpressionLanguage } from '../expressions/jsonata.js';
import { BUILTIN_STEP_TYPES } from '../model/schema.js';
import {
  collectTemplateStrings,
  isBuiltinStepType,
  mayHaveTemplates,
  toPointer,
} from '../model/template-fields.js';
import { VALIDATION_LIMITS } from './codes.js';
import { ExpressionChecker, type ParseOutcome } from './expressions.js';
import { adjacency, type Edges, findCycles, type GraphNodes, unreachable } from './graph.js';
import { documentPlatformProblems, hasPlatformFields, stepPlatformProblems } from './platform.js';
import { fieldName, type ProblemInput, ProblemList, quote, safeMessage } from './problems.js';
import { type ShapeIssue, stepIssues, topIssues } from './shape.js';
import { snapshot } from './snapshot.js';
import { closest, SuggestBudget, Suggester } from './suggest.js';
import { checkTools, toolEdgeProblem } from './tools.js';

export interface ValidateOptions {
  /** Host-registered step types, valid in addition to the built-in ones. */
  stepTypes?: Iterable<string>;
  /** The language of a document without a top-level `language` (the engine's default). Default `jsonata`. */
  language?: ExpressionLanguage;
  /**
   * The names of the tools registered on the engine (`createEngine({ tools })`): the external tools model
   * steps may name (`external:NAME`). Any other tool that is not a step key is UNKNOWN_TOOL.
   */
  tools?: Iterable<string>;
}

export interface ValidationResult {
  /** True when no problem has severity "error" (warnings are allowed). */
  ok: boolean;
  /** Every problem found, in document order within each pass. */
  problems: Problem[];
}

type Obj = Record<string, unknown>;
type Segments = Array<string | number>;

const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Bits of a step's `kind` in `#steps`. */
const DUPLICATE = 1;
const NOTE = 2;

/** The graph's edges with where each is written: its list (null: the step's `destinations`) and index. */
interface EdgeColumns extends Edges {
  from: number[];
  to: number[];
  list: Array<Segments | null>;
  j: number[];
  length: number;
}

/** What `#destinations` needs of the step whose lists it reads, and the graph it adds to. */
interface StepEdges {
  i: number;
  /** The step's node. */
  from: number;
  key: string | undefined;
  type: unknown;
  owner: Map<string, number>;
  kind: Uint8Array;
  nodeOf: Int32Array;
  seen: Int32Array;
  selfLoop: Uint8Array;
  edges: EdgeColumns;
}

/** The pointer of entry `j` of a destination list (null: `/steps/i/destinations`). */
function listPointer(i: number, list: Segments | null, j: number): string {
  return list === null ? `/steps/${i}/destinations/${j}` : toPointer([...list, j]);
}

function edgePointer(edges: EdgeColumns, id: number, nodeIndex: Int32Array): string {
  return listPointer(nodeIndex[edges.from[id]!]!, edges.list[id]!, edges.j[id]!);
}

/** Validates a workflow version or draft. Never throws. */
export function validateVersion(doc: unknown, options?: ValidateOptions): ValidationResult {
  const { ok, problems } = validateAndCopy(doc, options);
  return { ok, problems };
}

/**
 * validateVersion, plus the plain JSON copy of the document that was checked (undefined when validation
 * stopped early). Internal: the compiler keeps this copy rather than copying the document a second time
 * (issue 11, item 4); with `freeze`, every container of the copy is frozen as it is made.
 */
/**
 * What the validator learnt of a valid document's graph, for the compiler (so that it resolves no key a
 * second time): the first step of each key, and the edges in document order — for each step its
 * `destinations` (list null) then a branch's conditions' and `else` — without duplicates, notes or
 * self-loops. The node of step i is its index among the steps that are not notes.
 */
export interface CheckedGraph {
  readonly owner: ReadonlyMap<string, number>;
  readonly from: readonly number[];
  readonly to: readonly number[];
  readonly list: ReadonlyArray<ReadonlyArray<string | number> | null>;
}

export function validateAndCopy(
  doc: unknown,
  options?: ValidateOptions,
  freeze = false,
): ValidationResult & { copy: unknown; graph: CheckedGraph | undefined } {
  const problems = new ProblemList();
  const validation = new Validation(
    problems,
    readNames(options, 'stepTypes'),
    readLanguage(options),
    readNames(options, 'tools'),
    freeze,
  );
  try {
    validation.run(doc);
  } catch (error) {
    problems.add({
      code: 'INTERNAL',
      path: '',
      message:
        `The validator failed unexpectedly (${safeMessage(error)}). This is a bug in Weft: please report it ` +
        'with the document.',
    });
  }
  const list = problems.finish();
  return {
    ok: !list.some((p) => p.severity === 'error'),
    problems: list,
    copy: validation.copy,
    graph: validation.graph,
  };
}

/** `options.language`, read defensively (anything else is the default). */
function readLanguage(options: unknown): ExpressionLanguage {
  try {
    return isObject(options) && options.language === 'javascript' ? 'javascript' : 'jsonata';
  } catch {
    return 'jsonata';
  }
}

/** `options.stepTypes` or `options.tools`, read defensively (any iterable, at most `maxStepTypes` strings). */
function readNames(options: unknown, field: 'stepTypes' | 'tools'): Set<string> {
  const out = new Set<string>();
  try {
    if (!isObject(options)) return out;
    const types = options[field] as Iterable<unknown> | null | undefined;
    if (types === null || types === undefined || typeof types === 'string') return out;
    let seen = 0;
    for (const type of types) {
      if (typeof type === 'string') out.add(type);
      if (++seen >= VALIDATION_LIMITS.maxStepTypes) break;
    }
  } catch {
    // A broken iterable registers nothing more.
  }
  return out;
}

class Validation {
  readonly #problems: ProblemList;
  readonly #registered: Set<string>;
  readonly #expressions = new ExpressionChecker();
  readonly #suggestions = new SuggestBudget();
  /** Suggestions among the step keys, built on the first dangling destination. */
  #keys: Suggester | undefined;
  #poisoned = new Set<string>();
  /** Where the expression budget ran out first. */
  #budgetAt: string | undefined;
  /** The document's expression language (its `language`, else the engine's default). */
  #language: ExpressionLanguage;
  /** The engine's tools (`options.tools`). */
  readonly #tools: Set<string>;
  /** Freeze the copy (see validateAndCopy). */
  readonly #freeze: boolean;

  constructor(
    problems: ProblemList,
    registered: Set<string>,
    language: ExpressionLanguage,
    tools: Set<string>,
    freeze: boolean,
  ) {
    this.#freeze = freeze;
    this.#problems = problems;
    this.#registered = registered;
    this.#language = language;
    this.#tools = tools;
  }

  /** `#add`, as a function to hand to the passes in other files. */
  readonly #adder = (problem: ProblemInput): void => this.#add(problem);

  /** Adds a problem unless its path is (inside) a value the snapshot already replaced. */
  #add(problem: ProblemInput): void {
    if (this.#poisoned.size > 0 && this.#isPoisoned(problem.path)) return;
    this.#problems.add(problem);
  }

  #isPoisoned(path: string): boolean {
    for (let end = path.length; end >= 0; end = path.lastIndexOf('/', end - 1)) {
      if (this.#poisoned.has(path.slice(0, end))) return true;
      if (end === 0) break;
    }
    return false;
  }

  /** The snapshot of the document (see validateAndCopy). */
  copy: unknown;
  /** The graph (see CheckedGraph), once the steps were checked. */
  graph: CheckedGraph | undefined;

  run(input: unknown): void {
    const snap = snapshot(input, this.#problems, VALIDATION_LIMITS, this.#freeze);
    if (snap.aborted) return;
    this.copy = snap.value;
    this.#poisoned = snap.poisoned;
    const doc = snap.value;
    if (!isObject(doc)) {
      this.#add({
        code: 'INVALID_DOCUMENT',
        path: '',
        message:
          `The document must be a JSON object with a "steps" array (a workflow version or draft), but it is ` +
          `${describeRoot(doc)}. Pass the version object itself, e.g. {"steps": [{"type": "input", "key": "start"}]}.`,
      });
      return;
    }
    for (const issue of topIssues(doc)) this.#addShape(issue, '', 'The document', undefined);
    if (doc.language === 'jsonata' || doc.language === 'javascript') this.#language = doc.language;
    documentPlatformProblems(doc, this.#adder);
    const steps = doc.steps;
    if (!Array.isArray(steps)) return;
    if (steps.length > VALIDATION_LIMITS.maxSteps) {
      this.#add({
        code: 'LIMIT',
        path: '/steps',
        message:
          `The workflow has ${steps.length.toLocaleString('en-US')} steps; the most Weft validates is ` +
          `${VALIDATION_LIMITS.maxSteps.toLocaleString('en-US')}. Split it into sub-workflows (workflow steps).`,
      });
      return;
    }
    this.#steps(steps);
  }

  /**
   * Steps, one pass over them after the keys, then the graph. Nothing is allocated per step or per edge
   * when there is no problem: the graph is columns of numbers, and every subject, JSON pointer and
   * message is built only for a problem that is reported (issue 11, item 4: a 100,000-step chain).
   */
  #steps(steps: unknown[]): void {
    const n = steps.length;
    // Keys first (a destination may name a later step); the first step with a key owns it.
    const owner = new Map<string, number>();
    const keys = new Array<string | undefined>(n);
    /** Bits: DUPLICATE (a later step with a key an earlier one owns), NOTE. */
    const kind = new Uint8Array(n);
    const nodeOf = new Int32Array(n).fill(-1);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const step = steps[i];
      const key = keyOf(step);
      keys[i] = key;
      if (key !== undefined) {
        if (owner.get(key) === undefined) owner.set(key, i);
        else kind[i] = DUPLICATE;
      }
      if (!isObject(step)) continue;
      if (step.type === 'note') kind[i]! |= NOTE;
      else nodeOf[i] = count++;
    }
    const nodeIndex = new Int32Array(count);
    const declaredEntry = new Uint8Array(count);
    const exempt = new Uint8Array(count);
    for (let i = 0; i < n; i++) {
      const v = nodeOf[i]!;
      if (v < 0) continue;
      const step = steps[i] as Obj;
      nodeIndex[v] = i;
      declaredEntry[v] = step.type === 'input' || step.input_connected === true ? 1 : 0;
      exempt[v] = keys[i] === undefined || (kind[i]! & DUPLICATE) !== 0 ? 1 : 0;
    }
    const edges: EdgeColumns = { from: [], to: [], list: [], j: [], length: 0 };
    const selfLoop = new Uint8Array(count);
    /** The last step whose edges reached each node (duplicates of an edge are dropped). */
    const seen = new Int32Array(count).fill(-1);
    const graph: StepEdges = {
      i: 0,
      from: -1,
      key: undefined,
      type: undefined,
      owner,
      kind,
      nodeOf,
      seen,
      selfLoop,
      edges,
    };

    for (let i = 0; i < n; i++) {
      const step = steps[i];
      const key = keys[i];
      const type = isObject(step) ? step.type : undefined;
      const issues = stepIssues(step, type);
      if (issues.length > 0) {
        const subject = subjectOf(i, key, type);
        for (const issue of issues) this.#addShape(issue, `/steps/${i}`, subject, key);
      }
      if (!isObject(step)) continue;

      if (
        typeof type === 'string' &&
        type !== '' &&
        !isBuiltinStepType(type) &&
        !this.#registered.has(type)
      ) {
        this.#unknownType(i, key, key === undefined ? `Step #${i}` : `Step ${quote(key)}`, type);
      }
      if ((kind[i]! & DUPLICATE) !== 0) this.#duplicateKey(i, key!, owner);
      if (key === '__proto__') {
        // Step keys name properties of the scope, the run's `output` and every store row: this one
        // would replace their prototype instead (issue 11, item 6).
        this.#add({
          code: 'INVALID_VALUE',
          path: `/steps/${i}/key`,
          step_key: key,
          message: `${subjectOf(i, key, type)}: the key "__proto__" is reserved by JavaScript and cannot name a step. Choose another key.`,
        });
      }
      this.#stepExpressions(step, i, key, type);
      if (hasPlatformFields(type)) {
        stepPlatformProblems(step, i, key, subjectOf(i, key, type), this.#registered, this.#adder);
      }

      // Destinations: the edges of the graph.
      if (type === 'note') {
        if (Array.isArray(step.destinations) && step.destinations.length > 0) {
          this.#add({
            code: 'NOTE_DESTINATIONS',
            path: `/steps/${i}/destinations`,
            step_key: key,
            message:
              `${subjectOf(i, key, type)} is a note with destinations; notes never run, so these edges are ignored. ` +
              'Remove `destinations` from the note (or change its type to a step that runs).',
          });
        }
        continue;
      }
      graph.i = i;
      graph.from = nodeOf[i]!;
      graph.key = key;
      graph.type = type;
      this.#destinations(graph, step.destinations, null);
      if (type === 'branch') {
        if (isObject(step.conditions)) {
          for (const [name, condition] of Object.entries(step.conditions)) {
            if (isObject(condition))
              this.#destinations(graph, condition.destinations, [
                'steps',
                i,
                'conditions',
                name,
                'destinations',
              ]);
          }
        }
        this.#destinations(graph, step.else, ['steps', i, 'else']);
      }
    }

    // Tool-only steps (validate/tools.ts): never entries, never on an edge, never "unreachable".
    const toolSteps = checkTools(steps, owner, this.#tools, this.#suggestions, this.#adder);
    if (toolSteps.size > 0) {
      for (let id = 0; id < edges.length; id++) {
        const to = edges.to[id]!;
        if (!toolSteps.has(nodeIndex[to]!)) continue;
        const from = edges.from[id]!;
        this.#add(
          toolEdgeProblem(edgePointer(edges, id, nodeIndex), keys[nodeIndex[from]!], keys[nodeIndex[to]!]),
        );
      }
      for (let v = 0; v < count; v++) {
        if (!toolSteps.has(nodeIndex[v]!)) continue;
        exempt[v] = 1;
        declaredEntry[v] = 0;
      }
    }

    if (this.#budgetAt !== undefined) {
      this.#add({
        code: 'LIMIT',
        path: this.#budgetAt,
        message:
          `The document's expressions and templates are too many or too large to check (more than ` +
          `${VALIDATION_LIMITS.maxExpressionWork.toLocaleString('en-US')} characters of parsing in all, counting ` +
          `${VALIDATION_LIMITS.expressionParseCost} per expression); those from here on were not checked. ` +
          'Split the workflow into sub-workflows or share repeated logic.',
      });
    }
    this.#graph(steps, { count, declaredEntry, exempt }, nodeIndex, keys, edges, selfLoop);
    this.graph = { owner, from: edges.from, to: edges.to, list: edges.list };
  }

  /**
   * The edges of one destination list of a step (`list`: its path; null for `destinations`), in order: a
   * self-loop, a dangling destination or a note is reported; an edge already listed is dropped.
   */
  #destinations(g: StepEdges, targets: unknown, list: Segments | null): void {
    if (!Array.isArray(targets)) return;
    const mark = g.i;
    for (let j = 0; j < targets.length; j++) {
      const target: unknown = targets[j];
      if (typeof target !== 'string') continue;
      const key = g.key;
      if (key !== undefined && target === key) {
        g.selfLoop[g.from] = 1;
        this.#add({
          code: 'SELF_LOOP',
          path: listPointer(g.i, list, j),
          step_key: key,
          message:
            `${subjectOf(g.i, key, g.type)} lists itself as a destination; a step cannot follow itself. Remove ${quote(key)} from ` +
            'its destinations (to repeat work, use `loop`).',
        });
        continue;
      }
      const t = g.owner.get(target);
      if (t === undefined) {
        this.#dangling(listPointer(g.i, list, j), key, subjectOf(g.i, key, g.type), target, g.owner);
        continue;
      }
      if ((g.kind[t]! & NOTE) !== 0) {
        this.#add({
          code: 'DESTINATION_IS_NOTE',
          path: listPointer(g.i, list, j),
          step_key: key,
          message:
            `${subjectOf(g.i, key, g.type)} lists the note ${quote(target)} as a destination; notes never run, so this edge is ` +
            `ignored. Remove ${quote(target)} from the destinations.`,
        });
        continue;
      }
      const to = g.nodeOf[t]!;
      if (to < 0 || g.seen[to] === mark) continue;
      g.seen[to] = mark;
      const edges = g.edges;
      edges.from.push(g.from);
      edges.to.push(to);
      edges.list.push(list);
      edges.j.push(j);
      edges.length++;
    }
  }

  #graph(
    steps: unknown[],
    nodes: GraphNodes,
    nodeIndex: Int32Array,
    keys: ReadonlyArray<string | undefined>,
    edges: EdgeColumns,
    selfLoop: Uint8Array,
  ): void {
    const adj = adjacency(nodes.count, edges);
    const { cycles, more, inCycle } = findCycles(nodes.count, edges, VALIDATION_LIMITS.maxCycles, adj);
    const name = (node: number) => {
      const key = keys[nodeIndex[node]!];
      return key === undefined ? `#${nodeIndex[node]}` : key;
    };
    for (const cycle of cycles) {
      const from = edges.from[cycle.edge]!;
      const to = edges.to[cycle.edge]!;
      this.#add({
        code: 'CYCLE',
        path: edgePointer(edges, cycle.edge, nodeIndex),
        step_key: keys[nodeIndex[from]!],
        message:
          `Steps form a cycle: ${cyclePath(cycle.nodes.map(name))}. A workflow must not loop back on itself ` +
          `(a step waits for the steps before it, so a cycle never runs). Remove one destination of the cycle, ` +
          `e.g. ${quote(name(to))} from the destinations of step ${quote(name(from))}; ` +
          'to repeat work, use `loop`.',
      });
    }
    if (more) {
      this.#add({
        code: 'LIMIT',
        path: '/steps',
        message:
          `More cycles exist than the ${VALIDATION_LIMITS.maxCycles} listed. Fix those and validate again ` +
          'to see the rest.',
      });
    }
    if (nodes.count === 0) {
      const notes = steps.filter((s) => isObject(s) && s.type === 'note').length;
      this.#add({
        code: 'NO_RUNNABLE_STEP',
        path: '/steps',
        message:
          (steps.length === 0
            ? 'The workflow has no steps.'
            : notes === steps.length
              ? 'The workflow has only notes, and notes never run.'
              : 'The workflow has no runnable step (every element of `steps` is a note or not a step object).') +
          ' Add a step that runs, e.g. {"type": "input", "key": "start"}.',
      });
      return;
    }
    const onCycle = new Uint8Array(nodes.count);
    for (let v = 0; v < nodes.count; v++) onCycle[v] = inCycle[v]! | selfLoop[v]!;
    for (const v of unreachable(nodes, edges, onCycle, adj)) {
      const index = nodeIndex[v]!;
      const key = keys[index];
      this.#add({
        code: 'UNREACHABLE_STEP',
        path: `/steps/${index}`,
        step_key: key,
        message:
          `Step ${quote(key ?? '')} never runs: no entry step leads to it (the entries are the input steps ` +
          'and the steps with "input_connected": true). Add it to the destinations of a step that runs, set ' +
          '"input_connected": true on it, or remove it.',
      });
    }
  }

  #addShape(issue: ShapeIssue, base: string, subject: string, key: string | undefined): void {
    const path = base + issue.path;
    const message = (): string => {
      const text = issue.message();
      if (base !== '' && issue.path === '' && issue.code === 'INVALID_TYPE') {
        return (
          `${subject} must be a step object such as {"type": "code", "key": "total", "code": "1 + 1"}, ` +
          text.slice(text.indexOf('but it is'))
        );
      }
      if (base === '' && issue.path === '/steps') {
        return issue.code === 'MISSING_FIELD'
          ? 'The document has no `steps`. Add "steps": an array of step objects, e.g. ' +
              '[{"type": "input", "key": "start"}].'
          : `The document's \`steps\` must be an array of step objects, ${text.slice(text.indexOf('but it is'))}`;
      }
      return `${subject}: ${text}`;
    };
    this.#add({ code: issue.code, path, step_key: key, message });
  }

  #unknownType(i: number, key: string | undefined, subject: string, type: string): void {
    const known = [...BUILTIN_STEP_TYPES, ...this.#registered];
    const guess = closest(type, known, this.#suggestions);
    this.#add({
      code: 'UNKNOWN_STEP_TYPE',
      path: `/steps/${i}/type`,
      step_key: key,
      message:
        `${subject} has the type ${quote(type)}, which is not a built-in step type and has no registered handler. ` +
        (guess === undefined ? '' : `Did you mean ${quote(guess)}? `) +
        `Built-in types: ${BUILTIN_STEP_TYPES.join(', ')}` +
        (this.#registered.size > 0 ? `; registered: ${[...this.#registered].slice(0, 20).join(', ')}` : '') +
        `. Fix the type, or register a handler: createEngine({ steps: { ${JSON.stringify(type.slice(0, 40))}: handler } }).`,
    });
  }

  #duplicateKey(i: number, key: string, owner: Map<string, number>): void {
    let suggestion = `${key}_2`;
    for (let n = 3; owner.has(suggestion) && n < 1000; n++) suggestion = `${key}_${n}`;
    this.#add({
      code: 'DUPLICATE_STEP_KEY',
      path: `/steps/${i}/key`,
      step_key: key,
      message:
        `Step #${i} has the key ${quote(key)}, which step #${owner.get(key)} already uses; step keys must be ` +
        `unique. Rename one of them (e.g. to ${quote(suggestion)}) and update the destinations that should ` +
        'point to it.',
    });
  }

  #dangling(
    path: string,
    key: string | undefined,
    subject: string,
    target: string,
    owner: Map<string, number>,
  ): void {
    if (!this.#problems.hasRoom('DANGLING_DESTINATION')) {
      this.#add({ code: 'DANGLING_DESTINATION', path, message: '' }); // counted only
      return;
    }
    this.#keys ??= new Suggester(owner.keys(), this.#suggestions);
    const guess = this.#keys.closest(target);
    this.#add({
      code: 'DANGLING_DESTINATION',
      path,
      step_key: key,
      message:
        `${subject} lists the destination ${quote(target)}, but no step has that key. ` +
        (guess === undefined
          ? `Add a step with the key ${quote(target)} or remove it from the destinations.`
          : `Did you mean ${quote(guess)}? Fix the key, or add a step with the key ${quote(target)}.`),
    });
  }

  #stepExpressions(step: Obj, i: number, key: string | undefined, type: unknown): void {
    const conditional = step.conditional;
    if (typeof conditional === 'string' && conditional.trim() !== '') {
      this.#expression(i, 'conditional', conditional, type, key);
    }
    const loop = step.loop;
    if (typeof loop === 'string' && loop.trim() !== '') {
      this.#expression(i, 'loop', loop, type, key);
    }
    if (step.type === 'code' && typeof step.code === 'string') {
      // A code step's own `language` overrides the document's for its `code`.
      const language =
        step.language === 'jsonata' || step.language === 'javascript' ? step.language : this.#language;
      if (step.code.trim() === '') {
        this.#add({
          code: 'EMPTY_CODE',
          path: `/steps/${i}/code`,
          step_key: key,
          message:
            `${subjectOf(i, key, type)} has an empty \`code\` expression, so it always outputs null. ` +
            (language === 'javascript'
              ? 'Write a JavaScript function body that returns the output, e.g. "return { total: input.amount * 2 };"'
              : 'Write a JSONata expression whose value is the output, e.g. "input.amount * 2"') +
            ', or remove the step.',
        });
      } else {
        this.#expression(i, 'code', step.code, type, key, language);
      }
    }
    if (step.type === 'branch' && isObject(step.conditions)) {
      const orders = new Map<number, string>();
      for (const [name, condition] of Object.entries(step.conditions)) {
        if (!isObject(condition)) continue;
        if (typeof condition.condition === 'string') {
          const site = ['steps', i, 'conditions', name, 'condition'];
          if (condition.condition.trim() === '') {
            this.#add({
              code: 'EXPRESSION_SYNTAX',
              path: toPointer(site),
              step_key: key,
              position: 0,
              message:
                `${subjectOf(i, key, type)}: the condition ${quote(name)} is empty (position 0). ` +
                (this.#language === 'javascript'
                  ? 'Write a JavaScript function body that returns true or false, e.g. "return input.priority === \'high\';".'
                  : 'Write a JSONata expression that evaluates to true or false, e.g. "input.priority = \\"high\\"".'),
            });
          } else {
            this.#expression(i, site, condition.condition, type, key);
          }
        }
        if (typeof condition.order === 'number') {
          const earlier = orders.get(condition.order);
          if (earlier === undefined) orders.set(condition.order, name);
          else {
            this.#add({
              code: 'DUPLICATE_CONDITION_ORDER',
              path: toPointer(['steps', i, 'conditions', name, 'order']),
              step_key: key,
              message:
                `${subjectOf(i, key, type)}: the conditions ${quote(earlier)} and ${quote(name)} both have order ` +
                `${condition.order}, so they are tried in document order. Give each condition its own order.`,
            });
          }
        }
      }
    }
    if (mayHaveTemplates(step)) this.#templates(step, i, key, subjectOf(i, key, type));
  }

  #templates(step: Obj, i: number, key: string | undefined, subject: string): void {
    let reportedDepth = false;
    const found = collectTemplateStrings(step, (path) => {
      if (reportedDepth) return;
      reportedDepth = true;
      const pointer = toPointer(['steps', i, ...path]);
      this.#add({
        code: 'LIMIT',
        path: pointer,
        step_key: key,
        message:
          `${subject}: \`${fieldName(path.slice(0, 1))}\` is nested more than ` +
          `${VALIDATION_LIMITS.maxTemplateDepth} levels deep (at ${pointer}); templated fields are only read ` +
          'to that depth. Flatten the value, or pass deep data as run input.',
      });
    });
    for (const { path, text } of found) {
      const site = ['steps', i, ...path];
      const pointer = toPointer(site);
      const field = `\`${fieldName(path)}\``;
      if (text.length > VALIDATION_LIMITS.maxTemplateLength) {
        this.#add({
          code: 'LIMIT',
          path: pointer,
          step_key: key,
          message:
            `${subject}: the template in ${field} is ${text.length.toLocaleString('en-US')} characters long; ` +
            `templates (strings containing "{{") may have at most ` +
            `${VALIDATION_LIMITS.maxTemplateLength.toLocaleString('en-US')}. Shorten it or pass the text as run input.`,
        });
        continue;
      }
      const outcome = this.#expressions.template(text);
      switch (outcome.kind) {
        case 'ok':
          break;
        case 'budget':
          this.#budgetAt ??= pointer;
          break;
        case 'syntax':
          this.#add({
            code: 'EXPRESSION_SYNTAX',
            path: pointer,
            step_key: key,
            position: outcome.position,
            message: outcome.unclosed
              ? `${subject}: the template in ${field} opens a "{{" at position ${outcome.position} that is never ` +
                'closed. Close it with "}}".'
              : `${subject}: the template in ${field} has a syntax error at position ${outcome.position} (in ` +
                `the "{{ }}" segment starting at position ${outcome.start}): ${sentence(outcome.message)} ` +
                `Near ${near(text, outcome.position)}. Fix the JSONata expression between the braces.`,
          });
          break;
        case 'too-long':
          this.#tooLong(
            pointer,
            key,
            `${subject}: a "{{ }}" segment of the template in ${field}`,
            outcome.length,
          );
          break;
        case 'too-deep':
          this.#tooDeep(pointer, key, `${subject}: a "{{ }}" segment of the template in ${field}`);
          break;
      }
    }
  }

  /** `field`: the expression's field (`code`, …), or its path from the step (a branch condition). */
  #expression(
    i: number,
    field: string | Segments,
    source: string,
    type: unknown,
    key: string | undefined,
    language: ExpressionLanguage = this.#language,
  ): void {
    const outcome: ParseOutcome = this.#expressions.parse(source, language);
    // Nearly every expression parses: build the pointer, the subject and the field name only for a problem.
    if (outcome.kind === 'ok') return;
    const site = typeof field === 'string' ? ['steps', i, field] : field;
    const subject = subjectOf(i, key, type);
    const pointer = toPointer(site);
    const name = `\`${fieldName(site.slice(2))}\``;
    switch (outcome.kind) {
      case 'budget':
        this.#budgetAt ??= pointer;
        return;
      case 'too-long':
        this.#tooLong(pointer, key, `${subject}: the expression in ${name}`, outcome.length);
        return;
      case 'too-deep':
        this.#tooDeep(pointer, key, `${subject}: the expression in ${name}`);
        return;
      case 'syntax': {
        const position = outcome.error.position;
        this.#add({
          code: 'EXPRESSION_SYNTAX',
          path: pointer,
          step_key: key,
          position,
          message:
            outcome.language === 'javascript'
              ? `${subject}: the JavaScript in ${name} has a syntax error at line ${outcome.line}, column ` +
                `${outcome.column} (position ${position}): ${sentence(outcome.error.message)} Near ` +
                `${near(source, position)}. Fix the code: a function body that returns the value, e.g. ` +
                '"return input.amount * 2;".'
              : `${subject}: the JSONata expression in ${name} has a syntax error at position ${position}: ` +
                `${sentence(outcome.error.message)} Near ${near(source, position)}. ` +
                (outcome.looksLikeJavaScript
                  ? 'It looks like JavaScript (a function body with `return`): set "language": "javascript" ' +
                    'at the top of the document (or run it with `weft run --language javascript`), or write ' +
                    'it as a JSONata expression.'
                  : 'Fix the expression.'),
        });
      }
    }
  }

  #tooLong(path: string, key: string | undefined, what: string, length: number): void {
    this.#add({
      code: 'LIMIT',
      path,
      step_key: key,
      message:
        `${what} is ${length.toLocaleString('en-US')} characters long; the limit is ` +
        `${VALIDATION_LIMITS.maxExpressionLength.toLocaleString('en-US')}. Shorten it, or split the logic over ` +
        'several steps.',
    });
  }

  #tooDeep(path: string, key: string | undefined, what: string): void {
    this.#add({
      code: 'LIMIT',
      path,
      step_key: key,
      message: `${what} is nested too deeply for the JSONata parser. Simplify it, or split it over several steps.`,
    });
  }
}

function keyOf(step: unknown): string | undefined {
  if (!isObject(step)) return undefined;
  return typeof step.key === 'string' && step.key !== '' ? step.key : undefined;
}

function subjectOf(i: number, key: string | undefined, type: unknown): string {
  const name = key === undefined ? `Step #${i}` : `Step ${quote(key)}`;
  return typeof type === 'string' && type !== ''
    ? `${name} (${type.length > 30 ? `${type.slice(0, 30)}…` : type})`
    : name;
}

/** `a -> b -> c -> a`, shortened in the middle for long cycles. */
function cyclePath(names: string[]): string {
  const shown = names.map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n));
  if (shown.length <= 12) return shown.join(' -> ');
  return [...shown.slice(0, 8), `… (${shown.length - 11} more) …`, ...shown.slice(-3)].join(' -> ');
}

/** JSONata's messages lack a final period. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A window of the text around a position, JSON-quoted. */
function near(text: string, position: number): string {
  const from = Math.max(0, position - 20);
  const to = Math.min(text.length, position + 20);
  return `${from > 0 ? '…' : ''}${JSON.stringify(text.slice(from, to))}${to < text.length ? '…' : ''}`;
}

function describeRoot(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string ${quote(value, 40)}`;
  return `${typeof value} ${String(value)}`;
}
