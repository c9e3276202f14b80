import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openApiDocument } from '../lib/api/openapi-document';

/**
 * `npx tsx scripts/generate-openapi.ts`: writes docs/openapi.json from the route table and
 * the input schemas. A test fails while the checked-in file differs from what this writes.
 */
export const OPENAPI_FILE = path.join(__dirname, '..', 'docs', 'openapi.json');

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
}
