export type {
  EventBase,
  StepEventBase,
  WeftEvent,
  WeftEventMap,
  WeftEventName,
  WeftListener,
} from './events.js';
export { SafeEmitter, WEFT_EVENT_NAMES } from './events.js';
