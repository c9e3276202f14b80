import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

// The OpenAPI validator ships as an ES module only, which Jest's CommonJS runtime cannot
// load: the script checks the document in its own process.
const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');

test('docs/openapi.json is a valid OpenAPI 3.1 document, as the script writes it', async () => {
  const { stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/generate-openapi.ts', '--check'], {
    cwd: ROOT,
  });
  expect(stderr).not.toContain('openapi:');
});
