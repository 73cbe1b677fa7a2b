/** The workflow documents of the workloads (drafts: `{ key, steps }`). */

export interface Draft {
  key: string;
  language?: 'jsonata' | 'javascript';
  steps: Array<Record<string, unknown>>;
}

/** `n` steps of a host type, each the only destination of the one before (W1, W2, W4, W7). */
export function chain(n: number, type = 'noop'): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({ type, key: `s${i}`, destinations: i + 1 < n ? [`s${i + 1}`] : [] });
  }
  return { key: `chain-${type}-${n}`, steps };
}

/**
 * W1-tpl: `n` host steps, each reading the one before through a templated field — the platform's way of
 * passing data between non-code steps: `"input": "{{ sN.output }}"` (the first step reads `input.start`).
 */
export function templatedChain(n: number, type = 'inc'): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({
      type,
      key: `s${i}`,
      input: i === 0 ? '{{ input.start }}' : `{{ s${i - 1}.output }}`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    });
  }
  return { key: `templated-chain-${n}`, steps };
}

/** W1-obs: the W1 chain with a JSONata `conditional` on every step (the run's events are listened to). */
export function conditionalChain(n: number, type = 'noop'): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({
      type,
      key: `s${i}`,
      conditional: i === 0 ? 'input.go = true' : `s${i - 1}.status = "COMPLETED"`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    });
  }
  return { key: `conditional-chain-${n}`, steps };
}

/** `n` chained `code` steps whose expression is `1` (W8). */
export function codeChain(n: number): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({ type: 'code', key: `s${i}`, code: '1', destinations: i + 1 < n ? [`s${i + 1}`] : [] });
  }
  return { key: `code-chain-${n}`, steps };
}

/** One loop step over `input.items` (W3, W7). */
export function fanOut(maxConcurrency: number, type = 'tick'): Draft {
  return {
    key: `fan-out-${maxConcurrency}`,
    steps: [{ type, key: 'fan', loop: 'input.items', max_concurrency: maxConcurrency }],
  };
}

/**
 * W5: `n` chained `code` steps; step i runs when the previous output is a number (its `conditional`) and
 * outputs `{ n: previous + 1 }` (its `code`). Every expression is distinct, as in a real document.
 */
export function expressionChain(n: number): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? 'input.start' : `s${i - 1}.output.n`;
    steps.push({
      type: 'code',
      key: `s${i}`,
      conditional: `${prev} >= 0`,
      code: `{ "n": ${prev} + 1 }`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    });
  }
  return { key: `expressions-${n}`, steps };
}

/**
 * W5b: the W5 chain with expressions just outside the fast path (a function call each), so that every
 * evaluation crosses the evaluation boundary to a sandbox worker.
 */
export function expressionChainOutsideFastPath(n: number): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? 'input.start' : `s${i - 1}.output.n`;
    steps.push({
      type: 'code',
      key: `s${i}`,
      conditional: `$number(${prev}) >= 0`,
      code: `{ "n": $sum([${prev}, 1]) }`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    });
  }
  return { key: `expressions-slow-${n}`, steps };
}

/**
 * W5-js: the W5 chain written the platform's way, in JavaScript. With `sandbox`, each body declares a
 * variable first, which takes it outside the JavaScript fast path: every evaluation is a QuickJS call.
 */
export function javascriptChain(n: number, sandbox = false): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? 'input.start' : `s${i - 1}.output.n`;
    steps.push({
      type: 'code',
      key: `s${i}`,
      conditional: sandbox ? `const v = ${prev};\nreturn v >= 0;` : `return ${prev} >= 0;`,
      code: sandbox ? `const v = ${prev};\nreturn { n: v + 1 };` : `return { n: ${prev} + 1 };`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    });
  }
  return { key: `javascript-${n}`, language: 'javascript', steps };
}

/** W6: `n` chained `model` steps on the scripted provider. */
export function modelChain(n: number, provider = 'scripted'): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({
      type: 'model',
      key: `m${i}`,
      provider: { provider, model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      destinations: i + 1 < n ? [`m${i + 1}`] : [],
    });
  }
  return { key: `model-chain-${n}`, steps };
}

export function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** W8: `n` chained `code: "1"` steps (issue 11's 100,000-step document: one expression, repeated). */
export function chainOfCode(n: number): Draft {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    steps.push({ type: 'code', key: `s${i}`, code: '1', destinations: i + 1 < n ? [`s${i + 1}`] : [] });
  }
  return { key: `chain-code-${n}`, steps };
}
