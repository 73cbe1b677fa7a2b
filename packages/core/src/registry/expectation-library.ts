/**
 * A workflow's expectation library (the platform's `/tests/expectations`): named scripts, checked like a
 * test's own expectation scripts, that the workflow's tests reference by `expectation_id`. Scoped like
 * everything else: an expectation of another app (or of another workflow, when one is named) is
 * NOT_FOUND. A library holds at most `MAX_LIBRARY_EXPECTATIONS` (CONFLICT past that).
 *
 * Deleting an expectation does not touch the tests that reference it: each keeps its reference (and the
 * last script it ran), and its next run fails that expectation with code NOT_FOUND until the test is
 * updated. Workflows are archived, never deleted, so a library lives as long as its workflow.
 */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import type { ExpectationPatch, WorkflowExpectation } from '../store/types.js';
import { ownWorkflow } from './access.js';
import type {
  CreateExpectationInput,
  ExpectationListQuery,
  ExpectationsApi,
  UpdateExpectationInput,
} from './client.js';
import type { RegistryContext } from './context.js';
import { checkOptions, checkPageQuery, conflict, notFound } from './errors.js';
import { checkScript, languageOf, MAX_EXPECTATION_SCRIPT } from './expectation-script.js';

/** The most expectations one workflow's library holds. */
export const MAX_LIBRARY_EXPECTATIONS = 1_000;
/** The platform's cap on an expectation's name (characters). */
export const MAX_EXPECTATION_NAME = 256;
/** The longest `search` text of a list. */
export const MAX_EXPECTATION_SEARCH = 256;

export const expectationNotFound = (id: string) =>
  notFound(
    'Expectation',
    id,
    'Check the id, and that the expectation belongs to the library of a workflow of this app.',
  );

const FIELDS = ['name', 'script'] as const;

/** Unknown fields are refused rather than dropped: a misspelt `scirpt` must not pass silently. */
function checkFields(input: object, parameter: string): void {
  for (const key of Object.keys(input)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `\`${parameter}.${key}\` is not a field of an expectation; give only \`name\` and \`script\`.`,
        { details: { parameter: `${parameter}.${key}` } },
      );
    }
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_EXPECTATION_NAME) {
    throw invalidArgument('name', `a non-empty string of at most ${MAX_EXPECTATION_NAME} characters`, name);
  }
  return name;
}

/** A library expectation's script, checked in the workflow's language. */
function checkLibraryScript(ctx: RegistryContext, draft: unknown, script: unknown, name: string): string {
  return checkScript(
    script,
    languageOf(ctx, draft),
    'script',
    `library expectation "${name}"`,
    MAX_EXPECTATION_SCRIPT,
  );
}

export function expectationsApi(ctx: RegistryContext, appId: string): ExpectationsApi {
  const own = async (expectationId: string): Promise<WorkflowExpectation> => {
    if (typeof expectationId !== 'string' || expectationId === '')
      throw invalidArgument('expectationId', 'a non-empty string', expectationId);
    const expectation = await ctx.store.getExpectation(expectationId);
    if (expectation === null || expectation.app_id !== appId) throw expectationNotFound(expectationId);
    return expectation;
  };
  // Creates of one workflow's library are serialised (in this process) so that the cap holds.
  const locked = <T>(workflowId: string, fn: () => Promise<T>) =>
    ctx.locks.run(`expectations:${workflowId}`, fn);

  return {
    async create(workflowId, input: CreateExpectationInput) {
      if (input === undefined) throw invalidArgument('input', 'an object { name, script }', input);
      checkOptions(input, 'input');
      checkFields(input, 'input');
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      const name = checkName(input.name);
      const script = checkLibraryScript(ctx, workflow.draft, input.script, name);
      return locked(workflow.id, async () => {
        const count = await ctx.store.countExpectations(workflow.id);
        if (count >= MAX_LIBRARY_EXPECTATIONS) {
          throw conflict(
            `The expectation library of workflow "${workflowId}" holds ${count} expectations, the most it may (${MAX_LIBRARY_EXPECTATIONS}). Delete some before creating more.`,
            { workflow_id: workflow.id, limit: MAX_LIBRARY_EXPECTATIONS },
          );
        }
        const now = ctx.now();
        const expectation: WorkflowExpectation = {
          id: ctx.ids(),
          app_id: appId,
          workflow_id: workflow.id,
          name,
          script,
          created_at: now,
          updated_at: now,
        };
        await ctx.store.insertExpectation(expectation);
        return expectation;
      });
    },

    get: own,

    async list(workflowId, query: ExpectationListQuery = {}) {
      checkPageQuery(query);
      const { search, ...page } = query;
      if (search !== undefined && (typeof search !== 'string' || search.length > MAX_EXPECTATION_SEARCH)) {
        throw invalidArgument('search', `a string of at most ${MAX_EXPECTATION_SEARCH} characters`, search);
      }
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      return ctx.store.listExpectations({
        ...page,
        workflow_id: workflow.id,
        ...(search === undefined || search === '' ? {} : { search }),
      });
    },

    async update(expectationId, patch: UpdateExpectationInput) {
      if (patch === undefined) throw invalidArgument('patch', 'an object { name?, script? }', patch);
      checkOptions(patch, 'patch');
      checkFields(patch, 'patch');
      const current = await own(expectationId);
      const next: ExpectationPatch = { updated_at: ctx.now() };
      if (patch.name !== undefined) next.name = checkName(patch.name);
      if (patch.script !== undefined) {
        const workflow = await ownWorkflow(ctx, appId, current.workflow_id);
        next.script = checkLibraryScript(ctx, workflow.draft, patch.script, next.name ?? current.name);
      }
      const updated = await ctx.store.updateExpectation(current.id, next);
      if (updated === null) throw expectationNotFound(expectationId);
      return updated;
    },

    async delete(expectationId) {
      const expectation = await own(expectationId);
      await ctx.store.deleteExpectation(expectation.id);
    },
  };
}

/**
 * The library expectation `id` for a test of `workflowId` in `appId`, or null when there is none (deleted,
 * or another workflow's or app's: a test never reaches outside its workflow's library).
 */
export async function libraryExpectation(
  ctx: RegistryContext,
  appId: string,
  workflowId: string,
  id: string,
): Promise<WorkflowExpectation | null> {
  const expectation = await ctx.store.getExpectation(id);
  return expectation !== null && expectation.app_id === appId && expectation.workflow_id === workflowId
    ? expectation
    : null;
}
