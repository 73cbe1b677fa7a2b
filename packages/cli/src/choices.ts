/** The fixed choices of the command line's flags (kept apart so that parsing loads nothing else). */
export const PROVIDER_CHOICES = ['scripted', 'openai', 'anthropic'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

export const OUTPUT_MODES = ['result', 'json', 'run'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

export const GRAPH_FORMATS = ['mermaid', 'dot'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const STORE_CHOICES = ['sqlite', 'memory'] as const;
export type StoreChoice = (typeof STORE_CHOICES)[number];
