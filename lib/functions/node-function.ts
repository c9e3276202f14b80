import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { type EsbuildBundleProps, esbuildAssetOptions } from './esbuild-bundling';

export interface NodeFunctionProps extends lambda.FunctionOptions, Omit<EsbuildBundleProps, 'outfile'> {}

/**
 * A Lambda function of this project: a TypeScript entry that exports `handler`, bundled
 * by esbuild in this process (see `esbuild-bundling.ts`), on Node.js 24 and arm64 (Graviton:
 * cheaper per millisecond), logging JSON.
 */
export class NodeFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    const { entry, externalModules, target, ...functionOptions } = props;
    super(scope, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...functionOptions,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.dirname(entry), esbuildAssetOptions({ entry, externalModules, target })),
    });
  }
}
