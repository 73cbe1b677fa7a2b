export { UsageLedger } from './ledger.js';
export type { PriceLookup } from './pricing.js';
export { mergePricing, priceCall } from './pricing.js';
