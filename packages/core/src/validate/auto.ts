/**
 * `autoProblems(document, providers)`: what of a version's `auto` the given providers cannot serve, as
 * AUTO_UNSERVED warnings (`weft validate` checks against the providers `weft run` would use). It looks at
 * what the document says, before any template is resolved: `model` steps that leave their model to Weft
 * (providers/auto-model.ts; the needs from the messages as written) and input fields left to a model
 * (their step's `auto` config: the named provider must be registered; without a model, a model of its
 * catalogue, or any catalogue, must do JSON output). A run may still fail where this passes (a prompt
 * that grows with its input); it does not fail where this warns only if the engine is given other providers.
 */
import type { Problem } from '../errors.js';
import { inputDefinitions } from '../input/check.js';
import { allowsAuto, isPlainObject } from '../input/fields.js';
import { toPointer } from '../model/template-fields.js';
import {
  describeNeeds,
  isAutoModel,
  type ModelNeeds,
  stepNeeds,
  unmetNeeds,
} from '../providers/auto-model.js';
import { buildCatalogue, type CatalogueEntry } from '../providers/catalogue.js';
import type { Provider } from '../providers/provider.js';
import { providerPricing } from '../usage/pricing.js';

/** AUTO_UNSERVED warnings for `document` against `providers` (an array, or by registered name). */
export function autoProblems(
  document: unknown,
  providers: readonly Provider[] | Record<string, Provider>,
): Problem[] {
  const registered = new Map<string, Provider>();
  if (Array.isArray(providers)) for (const p of providers) registered.set(p.name, p);
  else for (const [name, p] of Object.entries(providers)) registered.set(name, p);
  const catalogue = buildCatalogue(registered, { providers: providerPricing(registered) });
  const out: Problem[] = [];
  if (!isPlainObject(document) || !Array.isArray(document.steps)) return out;
  const warn = (path: string, message: string, step_key?: string) =>
    out.push({
      severity: 'warning',
      code: 'AUTO_UNSERVED',
      path,
      message,
      ...(step_key === undefined ? {} : { step_key }),
    });

  document.steps.forEach((step: unknown, i) => {
    if (!isPlainObject(step) || step.type !== 'model' || !isPlainObject(step.provider)) return;
    const config = step.provider as Record<string, unknown> & { provider?: string; model?: string };
    const auto = isPlainObject(step.auto) ? (step.auto as { provider?: string; model?: string }) : null;
    if (!isAutoModel(config, auto)) return;
    const key = String(step.key);
    const named = namedProvider(config.provider, auto?.provider);
    const needs = stepNeeds(key, config as never, named);
    const why = unserved(needs, catalogue);
    if (why !== null) {
      warn(
        toPointer(['steps', i, 'provider']),
        `Step "${key}" leaves its model to Weft, but no provider checked can serve it (${describeNeeds(needs)}): ${why}. It will fail with NO_MODEL_FITS unless the engine gets such a provider.`,
        key,
      );
    }
  });

  const reported = new Set<string>();
  for (const site of inputDefinitions(document)) {
    if (!allowsAuto(site.field) || site.field.default !== undefined || site.field.type === 'content')
      continue;
    const group = site.step_key ?? '';
    if (reported.has(group)) continue;
    const step = document.steps.find((s: unknown) => isPlainObject(s) && s.key === site.step_key) as
      | Record<string, unknown>
      | undefined;
    const auto = isPlainObject(step?.auto) ? (step.auto as { provider?: string; model?: string }) : {};
    const named = namedProvider(undefined, auto.provider);
    let why: string | null;
    if (named !== null && auto.model !== undefined && auto.model !== '' && auto.model !== 'auto') {
      why = registered.has(named) ? null : `the provider "${named}" is not among them`;
    } else {
      why = unserved(
        stepNeeds(site.step_key ?? '$auto', { messages: [], response_format: 'json' }, named),
        catalogue,
      );
    }
    if (why === null) continue;
    reported.add(group);
    const index = site.step_key === undefined ? -1 : document.steps.indexOf(step);
    warn(
      index < 0
        ? toPointer(['input', site.name, 'allowed_modes'])
        : toPointer(['steps', index, 'input', site.name, 'allowed_modes']),
      `Field "${site.name}" (from ${site.source}) is left to a model when the caller leaves it out, but no provider checked can fill it: ${why}. Unless the engine gets one (or its \`auto\` config names one), such runs fail with AUTO_FILL_FAILED.`,
      site.step_key,
    );
  }
  return out;
}

function namedProvider(config: string | undefined, auto: string | undefined): string | null {
  if (config === 'auto') return null;
  const name = config !== undefined && config !== '' ? config : auto;
  return name === undefined || name === '' || name === 'auto' ? null : name;
}

/** Why no catalogue model serves the needs, or null when one does. */
function unserved(needs: ModelNeeds, catalogue: readonly CatalogueEntry[]): string | null {
  const candidates =
    needs.provider === null ? catalogue : catalogue.filter((e) => e.provider === needs.provider);
  if (candidates.length === 0) {
    return needs.provider === null
      ? 'none publishes a catalogue of models'
      : `"${needs.provider}" is not among them, or publishes no catalogue`;
  }
  let closest: { entry: CatalogueEntry; unmet: string[] } | null = null;
  for (const entry of candidates) {
    const unmet = unmetNeeds(entry, needs);
    if (unmet.length === 0) return null;
    if (closest === null || unmet.length < closest.unmet.length) closest = { entry, unmet };
  }
  return `the closest, ${closest!.entry.provider}/${closest!.entry.model}, lacks ${closest!.unmet.join(', ')}`;
}
