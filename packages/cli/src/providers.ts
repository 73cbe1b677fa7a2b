/**
 * Which provider answers `model` steps:
 * - `--provider scripted` (or `--fixtures` without `--provider`, or no provider and no API key in the
 *   environment): a dry run. One scripted provider (from the fixtures) answers under every provider name
 *   the workflows use, plus "scripted", "openai" and "anthropic".
 * - `--provider openai` / `anthropic`, or an API key in the environment: the real provider, registered
 *   under its own name (OPENAI_API_KEY, OPENAI_BASE_URL; ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL).
 */
import {
  type AutoModelPolicy,
  type CatalogueModel,
  isWeftError,
  mergePricing,
  type PricingTable,
  type Provider,
} from '@weft/core';
import { type ScriptedProvider, scriptedProvider } from '@weft/testing';
import type { ProviderChoice } from './choices.js';
import { CliError } from './errors.js';
import type { Fixtures } from './fixtures.js';

export type { ProviderChoice } from './choices.js';

export const KEY_VARIABLES = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' } as const;

export interface ProviderSetup {
  dryRun: boolean;
  providers: Record<string, Provider>;
  pricing: PricingTable;
  /** One line saying which provider answers, for stderr. */
  notice: string;
  /** Dry runs: the fixtures' `choose` pins the model automatic choice gives a step. */
  autoModel?: AutoModelPolicy;
  /** Dry runs: replaces the fixtures every scripted name answers from (tests swap them per test). */
  useFixtures(fixtures: Fixtures, source: string): void;
}

/** Builds the scripted provider of a fixtures document; a bad document is a usage error naming its file. */
export function scriptedFrom(fixtures: Fixtures, source: string): ScriptedProvider {
  try {
    return scriptedProvider.fromFixtures(fixtures.scripted);
  } catch (error) {
    if (isWeftError(error)) throw new CliError(`${source}: ${error.message}`);
    throw error;
  }
}

export interface ProviderRequest {
  choice: ProviderChoice | undefined;
  env: NodeJS.ProcessEnv;
  /** Provider names the workflows use. */
  names: readonly string[];
  fixtures: Fixtures;
  /** Where the fixtures came from, for the notice (null: none, the scripted provider echoes). */
  fixturesSource: string | null;
  /** The fixtures were given explicitly (`--fixtures`). */
  explicitFixtures: boolean;
  /** Tests default to the scripted provider whatever the environment has. */
  preferScripted?: boolean;
}

export async function setupProviders(request: ProviderRequest): Promise<ProviderSetup> {
  const { env } = request;
  const has = (name: keyof typeof KEY_VARIABLES) => (env[KEY_VARIABLES[name]] ?? '') !== '';
  let choice = request.choice;
  let reason = '';
  if (choice === undefined) {
    if (request.explicitFixtures) {
      choice = 'scripted';
      reason = '--fixtures given';
    } else if (request.preferScripted) {
      choice = 'scripted';
      reason = 'tests run on fixtures unless --provider says otherwise';
    } else if (has('openai') || has('anthropic')) {
      return live(
        [has('openai') ? 'openai' : null, has('anthropic') ? 'anthropic' : null].filter(
          (x): x is 'openai' | 'anthropic' => x !== null,
        ),
        env,
      );
    } else {
      choice = 'scripted';
      reason = `no ${KEY_VARIABLES.openai} or ${KEY_VARIABLES.anthropic}`;
    }
  }
  if (choice !== 'scripted') {
    if (request.explicitFixtures) {
      throw new CliError(
        `--fixtures is for the scripted provider; it cannot be used with --provider ${choice}.`,
      );
    }
    return live([choice], env);
  }
  return scripted(request, reason, await listPrices());
}

/**
 * Both providers' list prices (a dry run's token estimates are priced as the real call would be) and
 * catalogues (a dry run's automatic model choice picks what a live run with both keys would).
 */
async function listPrices(): Promise<{
  pricing: PricingTable;
  catalogues: Record<string, readonly CatalogueModel[]>;
}> {
  const [openai, anthropic] = await Promise.all([
    import('@weft/provider-openai'),
    import('@weft/provider-anthropic'),
  ]);
  return {
    pricing: mergePricing(openai.pricing, anthropic.pricing),
    catalogues: { openai: openai.catalogue, anthropic: anthropic.catalogue },
  };
}

function scripted(
  request: ProviderRequest,
  reason: string,
  list: { pricing: PricingTable; catalogues: Record<string, readonly CatalogueModel[]> },
): ProviderSetup {
  const pricing = list.pricing;
  let current = scriptedFrom(request.fixtures, request.fixturesSource ?? 'fixtures');
  const names = new Set(['scripted', 'openai', 'anthropic', ...request.names]);
  const providers: Record<string, Provider> = {};
  // openai and anthropic offer their real catalogues; the other names the fixtures' `catalogue`, if any.
  const own = Array.isArray(request.fixtures.scripted.catalogue) ? current.catalogue : undefined;
  for (const name of names) {
    const catalogue = Object.hasOwn(list.catalogues, name) ? list.catalogues[name] : own;
    providers[name] = {
      name,
      complete: (req) => current.withName(name).complete(req),
      ...(catalogue === undefined ? {} : { catalogue }),
    };
  }
  const http = request.fixtures.http.size;
  const source =
    request.fixturesSource === null
      ? 'no fixtures, model replies echo the prompt'
      : `fixtures ${request.fixturesSource}${http > 0 ? ` (with ${http} HTTP answer${http === 1 ? '' : 's'})` : ''}`;
  return {
    dryRun: true,
    providers,
    pricing,
    notice: `Dry run (${reason === '' ? '--provider scripted' : reason}): scripted provider, ${source}.`,
    autoModel: (needs, catalogue) => current.autoModel(needs, catalogue),
    useFixtures(fixtures, fixturesSource) {
      current = scriptedFrom(fixtures, fixturesSource);
    },
  };
}

async function live(choices: Array<'openai' | 'anthropic'>, env: NodeJS.ProcessEnv): Promise<ProviderSetup> {
  const providers: Record<string, Provider> = {};
  let pricing: PricingTable = {};
  for (const choice of choices) {
    const apiKey = env[KEY_VARIABLES[choice]] || undefined;
    if (choice === 'openai') {
      const baseURL = env.OPENAI_BASE_URL || undefined;
      if (apiKey === undefined && baseURL === undefined) {
        throw new CliError(
          `--provider openai needs ${KEY_VARIABLES.openai} in the environment (or OPENAI_BASE_URL for a local server such as Ollama).`,
        );
      }
      const mod = await import('@weft/provider-openai');
      providers.openai = mod.openai({ apiKey, baseURL });
      pricing = mergePricing(pricing, mod.pricing);
    } else {
      const baseURL = env.ANTHROPIC_BASE_URL || undefined;
      if (apiKey === undefined) {
        throw new CliError(`--provider anthropic needs ${KEY_VARIABLES.anthropic} in the environment.`);
      }
      const mod = await import('@weft/provider-anthropic');
      providers.anthropic = mod.anthropic({ apiKey, baseURL });
      pricing = mergePricing(pricing, mod.pricing);
    }
  }
  return {
    dryRun: false,
    providers,
    pricing,
    notice: `Live run: model calls go to ${choices.join(' and ')}.`,
    useFixtures() {
      // live providers have no fixtures
    },
  };
}
