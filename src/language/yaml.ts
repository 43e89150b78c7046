/**
 * The `yaml` package, loaded on first use. Most runs never read YAML, and importing it eagerly
 * made every import of Stepwise load its 70-odd modules. (With the database drivers, also loaded
 * on first use now, that was 90 ms of a 255 ms import and 3 MB of heap.)
 */
import { createRequire } from 'node:module';

import type { DocumentOptions, ParseOptions, SchemaOptions, ToJSOptions } from 'yaml';

type YamlModule = typeof import('yaml');

let loaded: YamlModule | undefined;

export function yamlModule(): YamlModule {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlModule);
}

/** `yaml`'s `parse`. */
export function parseYaml(
  text: string,
  options?: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions,
): unknown {
  return yamlModule().parse(text, options) as unknown;
}
