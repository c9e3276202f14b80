import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openApiDocument } from '../lib/api/openapi-document';

/**
 * `npm run openapi`: writes docs/openapi.json from the route table and the input schemas,
 * after checking it against the OpenAPI 3.1 schema. `--check` writes nothing and exits 1
 * when the document is invalid or the checked-in file is stale.
 */
export const OPENAPI_FILE = path.join(__dirname, '..', 'docs', 'openapi.json');

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

/** The OpenAPI Initiative's schema for 3.1, as @seriousme/openapi-schema-validator ships it (ES module only). */
async function problemsOf(document: unknown): Promise<string[]> {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const validator = new Validator();
  const result = await validator.validate(document as Parameters<typeof validator.validate>[0]);
  if (validator.version !== '3.1') return [`validated as OpenAPI ${validator.version}, not 3.1`];
  return result.valid ? [] : [JSON.stringify(result.errors)];
}

async function main(): Promise<number> {
  const text = openApiText();
  const problems = await problemsOf(JSON.parse(text));
  if (process.argv.includes('--check')) {
    if (readFileSync(OPENAPI_FILE, 'utf8') !== text) problems.push('docs/openapi.json is stale: run npm run openapi');
  } else if (problems.length === 0) {
    writeFileSync(OPENAPI_FILE, text);
    console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
  }
  for (const problem of problems) console.error(`openapi: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) main().then((code) => process.exit(code));
