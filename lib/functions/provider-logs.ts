import { type CfnResource, CustomResourceProviderBase } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { LOG_WRITE_ACTIONS } from './execution-role';

export interface ProviderLogsProps {
  /** Customer-managed key of the group; its key policy must let the region's CloudWatch Logs use it. */
  readonly encryptionKey: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly retention?: logs.RetentionDays;
}

/**
 * Gives one of CDK's own custom-resource providers (a `CustomResourceProvider`: the trigger
 * provider, the default security group's rule remover) a log group of its own, made before
 * its function, and lets its role write there only.
 *
 * CDK makes such a provider as a bare `AWS::Lambda::Function` with a role that has
 * AWSLambdaBasicExecutionRole (log actions on every log group): its function would create
 * `/aws/lambda/<name>` itself on its first run, with no key and no expiry. Here the function
 * logs to the group through `LoggingConfig.LogGroup` (a reference, so the group comes first)
 * and the role carries one inline statement on that group instead of the managed policy.
 * Calling it again for the same provider returns the group it made.
 */
export function confineProviderLogs(provider: IConstruct, props: ProviderLogsProps): logs.LogGroup {
  if (!(provider instanceof CustomResourceProviderBase)) {
    throw new Error(`${provider.node.path}: not a CDK CustomResourceProvider`);
  }
  const existing = provider.node.tryFindChild('Logs');
  if (existing instanceof logs.LogGroup) return existing;
  const logGroup = new logs.LogGroup(provider, 'Logs', {
    retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: props.encryptionKey,
  });
  const handler = provider.node.findChild('Handler') as CfnResource;
  const role = provider.node.findChild('Role') as CfnResource;
  handler.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
  role.addPropertyDeletionOverride('ManagedPolicyArns');
  provider.addToRolePolicy({ Effect: 'Allow', Action: [...LOG_WRITE_ACTIONS], Resource: logGroup.logGroupArn });
  return logGroup;
}
