// @weft/cli — the `weft` command, and its pieces for programmatic use and tests.

export { CliError, EXIT } from './errors.js';
export { locateJsonError, parseJson } from './files.js';
export type { Fixtures, HttpFixture } from './fixtures.js';
export { fixtureFetch, mergeFixtures, parseFixtures } from './fixtures.js';
export type { Graph, GraphEdge, GraphNode, StepStatuses } from './graph.js';
export { graphOf, statusesOf, toDot, toMermaid } from './graph.js';
export { createProgram, main, VERSION } from './main.js';
export { RunView, renderFrame } from './progress.js';
