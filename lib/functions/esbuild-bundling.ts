import * as path from 'node:path';
import { AssetHashType, type BundlingOptions, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { type BuildOptions, buildSync } from 'esbuild';

export interface EsbuildBundleProps {
  /** The TypeScript module to bundle, e.g. `lambda/cart/handler.ts`. */
  readonly entry: string;
  /**
   * Path of the bundle inside the asset.
   * @default 'index.js'
   */
  readonly outfile?: string;
  /**
   * Modules left out of the bundle.
   * @default ['pg-native'] (pg's optional native binding, never used)
   */
  readonly externalModules?: readonly string[];
  /**
   * Node.js version the bundle is compiled for.
   * @default 'node24'
   */
  readonly target?: string;
}

/**
 * The esbuild options of every function bundle: one minified CommonJS file with its
 * dependencies, the AWS SDK included. Bundled and minified, the few SDK commands a function
 * uses load faster than the runtime's whole SDK packages resolved from disk, and the
 * function runs the SDK version this project tested, not the one the runtime ships.
 * `module` before `main` so packages that publish ES modules (the SDK does) are tree-shaken.
 */
export function esbuildOptions(props: EsbuildBundleProps, outputDir: string): BuildOptions {
  return {
    entryPoints: [props.entry],
    outfile: path.join(outputDir, props.outfile ?? 'index.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'node',
    format: 'cjs',
    target: props.target ?? 'node24',
    mainFields: ['module', 'main'],
    external: [...(props.externalModules ?? ['pg-native'])],
    legalComments: 'external',
    logLevel: 'warning',
  };
}

/**
 * Bundles in this process with esbuild's API. CDK's `NodejsFunction` runs
 * `npx --no-install esbuild` once per function instead: about 0.7 s each on a 2-core
 * machine, most of it npx starting, on every synthesis.
 */
class EsbuildLocalBundling implements ILocalBundling {
  // Plain fields: CDK keys its cache of staged assets on the JSON of the bundling options.
  constructor(readonly props: EsbuildBundleProps) {}

  tryBundle(outputDir: string): boolean {
    buildSync(esbuildOptions(this.props, outputDir));
    return true;
  }
}

/**
 * Asset options that bundle `props.entry` with esbuild through CDK's asset system: the
 * asset is named by the hash of the bundle, and stacks left out of
 * `aws:cdk:bundling-stacks` (e.g. `cdk deploy StackA`) skip the work.
 */
export function esbuildAssetOptions(props: EsbuildBundleProps): s3assets.AssetOptions {
  const bundling: BundlingOptions = {
    local: new EsbuildLocalBundling(props),
    // Required by the type, never pulled: local bundling either succeeds or throws.
    image: DockerImage.fromRegistry('local-esbuild-only'),
  };
  return { assetHashType: AssetHashType.OUTPUT, bundling };
}
