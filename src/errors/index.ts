export { GatehouseError, isGatehouseError, type PublicReason } from './error.js';
export { catalogue, type ErrorCode, type ErrorEntry } from './catalogue.js';
