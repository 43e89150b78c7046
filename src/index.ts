/** Stepwise's public library API. */
export * from './surfaces/library/index.js';
export { loadDefinition, formatFromFileName } from './language/load.js';
export { compileDefinition } from './language/compile.js';
export type { JsonValue, JsonObject } from './language/json.js';
