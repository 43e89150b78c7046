/** YAML view of a definition (its own chunk: loaded on demand). */
import { stringify } from 'yaml';

export function toYaml(json: string): string {
  try {
    return stringify(JSON.parse(json), { lineWidth: 0 });
  } catch {
    return json;
  }
}
