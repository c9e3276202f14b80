import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import type { Construct } from 'constructs';
import { esbuildAssetOptions } from './esbuild-bundling';

export interface BundledCanaryCodeProps {
  /** The TypeScript module exporting the canary's `handler`. */
  readonly entry: string;
  /** The script's name: the bundle is `nodejs/node_modules/<name>.js`, the handler `<name>.handler`. */
  readonly scriptName: string;
  /**
   * Node.js version of the Synthetics runtime.
   * @default 'node22'
   */
  readonly target?: string;
}

/**
 * A Synthetics canary script bundled by esbuild through CDK's asset system, laid out as
 * Synthetics Node.js runtimes expect it (`nodejs/node_modules/<name>.js`), every dependency
 * inside: which SDK a Synthetics runtime ships is not something the script should rely on.
 *
 * Why not `synthetics.Code.fromAsset` with bundling options: it looks for the handler file
 * in the staged asset even when the stack is left out of `aws:cdk:bundling-stacks`, where
 * the staged asset is the unbundled source folder, so `cdk deploy` of any other stack (and
 * every test that skips bundling) would fail. This checks the bundle only when there is one.
 */
export class BundledCanaryCode extends synthetics.Code {
  private asset?: s3assets.Asset;

  constructor(private readonly props: BundledCanaryCodeProps) {
    super();
  }

  get handler(): string {
    return `${this.props.scriptName}.handler`;
  }

  bind(scope: Construct): synthetics.CodeConfig {
    const outfile = path.join('nodejs', 'node_modules', `${this.props.scriptName}.js`);
    this.asset ??= new s3assets.Asset(scope, 'Code', {
      path: path.dirname(this.props.entry),
      ...esbuildAssetOptions({
        entry: this.props.entry,
        outfile,
        externalModules: [],
        target: this.props.target ?? 'node22',
      }),
    });
    const bundle = path.resolve(Stage.of(scope)?.outdir ?? '', this.asset.assetPath, outfile);
    if (Stack.of(scope).bundlingRequired && !existsSync(bundle)) {
      throw new Error(`${scope.node.path}: the bundled canary script is not at ${outfile} in its asset`);
    }
    return { s3Location: { bucketName: this.asset.s3BucketName, objectKey: this.asset.s3ObjectKey } };
  }
}
