// The tool version recorded in provenance and "convertedBy".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native/binding.js';

let cached: string | undefined;
export function toolVersion(): string {
  if (cached) return cached;
  try {
    cached = String(
      (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0',
    );
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
export const TOOL_NAME = 'tfjs-quant';
