export { GatehouseError, isGatehouseError } from './error.js';
export { catalogue, type ErrorCode, type ErrorEntry } from './catalogue.js';
