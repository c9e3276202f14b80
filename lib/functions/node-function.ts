import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type EsbuildBundleProps, esbuildAssetOptions } from './esbuild-bundling';
import { confineExecutionRole } from './execution-role';

export interface NodeFunctionProps
  extends Omit<lambda.FunctionOptions, 'logGroup' | 'logRetention' | 'logRetentionRole' | 'logRetentionRetryOptions'>,
    Omit<EsbuildBundleProps, 'outfile'> {
  /**
   * The function's own log group, a `logs.LogGroup` of the app with a retention and the
   * region's customer-managed key (the whole-app test requires both). The function refers to
   * it (`LoggingConfig.LogGroup`), so CloudFormation creates it first, and the function's role
   * may write to it and to no other group.
   * @default CDK's `/aws/lambda/<function name>` group (feature flag `useCdkManagedLogGroup`),
   * with no key, made after the function: for a function no deploy invokes
   */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * A Lambda function of this project: a TypeScript entry that exports `handler`, bundled
 * by esbuild in this process (see `esbuild-bundling.ts`), on Node.js 24 and arm64 (Graviton:
 * cheaper per millisecond), logging JSON into its own log group. Unless a role is given,
 * its role writes that group only (`confineExecutionRole`).
 */
export class NodeFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    const { entry, externalModules, target, logGroup, ...functionOptions } = props;
    super(scope, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...functionOptions,
      logGroup,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.dirname(entry), esbuildAssetOptions({ entry, externalModules, target })),
    });
    if (!props.role) confineExecutionRole(this, this.logGroup);
  }
}
