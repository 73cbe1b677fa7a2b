export type {
  EventBase,
  StepEventBase,
  WeftEvent,
  WeftEventMap,
  WeftEventName,
  WeftListener,
} from './events.js';
export { SafeEmitter } from './events.js';
