import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { NodeFunction } from '../../../lib/functions/node-function';
import { CDK_JSON_CONTEXT } from '../../support/cdk-context';

/** NodeFunction's bundling for real: esbuild through CDK's asset system, the bundle run by Node.js. */
let work: string;
beforeEach(() => {
  // Inside the repository, so that esbuild finds its node_modules.
  const cache = path.join(__dirname, '..', '..', '..', 'node_modules', '.cache');
  execFileSync('mkdir', ['-p', cache]);
  work = mkdtempSync(path.join(cache, 'node-function-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function entry(name: string, body: string): string {
  const dir = path.join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  const file = path.join(dir, 'handler.ts');
  writeFileSync(file, body);
  return file;
}

function synthesize(entries: Record<string, string>, bundlingStacks?: string[]) {
  const outdir = path.join(work, 'cdk.out');
  const app = new App({
    outdir,
    context: { ...CDK_JSON_CONTEXT, ...(bundlingStacks ? { 'aws:cdk:bundling-stacks': bundlingStacks } : {}) },
  });
  const stack = new Stack(app, 'Functions', { env: { account: '123456789012', region: 'eu-west-1' } });
  for (const [id, file] of Object.entries(entries)) new NodeFunction(stack, id, { entry: file });
  app.synth();
  return { outdir, template: Template.fromStack(stack) };
}

const HANDLER = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({ region: 'eu-west-1' });
export const handler = async () => ({ statusCode: 200, body: typeof client.send });
`;

describe('NodeFunction bundling', () => {
  test('the asset is one index.js with the SDK inside, whose handler runs without node_modules', () => {
    // given
    const file = entry('one', HANDLER);
    // when
    const { outdir, template } = synthesize({ One: file });
    // then
    const key = Object.values(template.findResources('AWS::Lambda::Function'))[0]?.Properties.Code.S3Key as string;
    const asset = path.join(outdir, `asset.${key.replace('.zip', '')}`);
    expect(readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map']);
    const bundle = readFileSync(path.join(asset, 'index.js'), 'utf8');
    // The DynamoDB client's own code is inside (compared as a boolean: the bundle is 300 KB).
    expect(bundle.includes('com.amazonaws.dynamodb')).toBe(true);
    const isolated = path.join(work, 'isolated.js');
    writeFileSync(isolated, bundle);
    const answer = execFileSync(process.execPath, [
      '-e',
      `require(${JSON.stringify(isolated)}).handler().then((r) => process.stdout.write(JSON.stringify(r)))`,
    ]);
    expect(JSON.parse(answer.toString())).toEqual({ statusCode: 200, body: 'function' });
  });

  test('two entries get two assets; a changed entry gets a new asset hash', () => {
    // given
    const a = entry('a', 'export const handler = async () => "a";\n');
    const b = entry('b', 'export const handler = async () => "b";\n');
    // when
    const keys = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function')).map((r) => r.Properties.Code.S3Key as string);
    const before = keys(synthesize({ A: a, B: b }).template);
    writeFileSync(b, 'export const handler = async () => "b2";\n');
    // CDK keeps staged assets per process; `cdk synth` is a new process each time.
    AssetStaging.clearAssetHashCache();
    const after = keys(synthesize({ A: a, B: b }).template);
    // then
    expect(new Set(before).size).toBe(2);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  });

  test('a stack left out of aws:cdk:bundling-stacks is not bundled', () => {
    // given
    const file = entry('skipped', HANDLER);
    // when
    const { outdir } = synthesize({ Skipped: file }, []);
    // then
    expect(existsSync(outdir) && readdirSync(outdir).some((name) => name.startsWith('asset.'))).toBe(false);
  });
});
