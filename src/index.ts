/** Stepwise's public library API. */
export * from './surfaces/library/index.js';
export { storedToWireEvent } from './surfaces/library/wire.js';
export { loadDefinition, formatFromFileName } from './language/load.js';
export { compileDefinition } from './language/compile.js';
export type { JsonValue, JsonObject } from './language/json.js';
export { Engine, type EngineOptions } from './runtime/engine.js';
export type { StepFunctionsEngine } from './runtime/engine-api.js';
export { fileLogSink, streamLogSink, type ExecutionLogSink } from './runtime/execution-log.js';
export { ServiceError } from './language/errors.js';
export { validateDefinition, validateDefinitionText, type Diagnostic } from './language/validate.js';
export { loadFunctionConfig } from './runtime/integrations/function-config.js';
export { loadHttpConfig } from './runtime/integrations/http.js';
export { loadAwsConfig, type AwsPassThroughOptions } from './runtime/integrations/aws.js';
export { loadMockConfig } from './runtime/integrations/mocks.js';
export { openSqliteStore } from './runtime/store/sqlite.js';
export { openPostgresStore } from './runtime/store/postgres.js';
