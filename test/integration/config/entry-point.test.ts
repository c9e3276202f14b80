import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// The entry point as `cdk synth` runs it, in a child process: the rules themselves are
// unit-tested in test/unit/config/topology.test.ts.
describe('topology config', () => {
  test('the app entry point fails synthesis with the named field and writes nothing', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const outdir = mkdtempSync(path.join(tmpdir(), 'invalid-config-'));
    const run = () =>
      execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'commerce.ts')], {
        cwd: root,
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ deploymentModel: 'active-standby' }),
          CDK_OUTDIR: outdir,
        },
        stdio: 'pipe',
      });
    let stderr = '';
    let status: number | null = 0;
    try {
      run();
    } catch (error) {
      const failure = error as { status: number | null; stderr: Buffer };
      status = failure.status;
      stderr = failure.stderr.toString();
    }
    expect(status).toBe(1);
    expect(stderr).toContain('Invalid topology config (context deploymentModel)');
    expect(stderr).toContain(
      '- deploymentModel: "active-standby" is not a deployment model; allowed: active-active, active-passive',
    );
    expect(readdirSync(outdir)).toEqual([]);
    rmSync(outdir, { recursive: true, force: true });
  });
});
