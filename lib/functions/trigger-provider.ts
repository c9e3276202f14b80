import { Stack, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { confineProviderLogs } from './provider-logs';

/**
 * Configures CDK's trigger provider, the one deploy-time function per stack (a fixed id) that
 * invokes the stack's `triggers.Trigger` handlers and reports their result to CloudFormation:
 * its own log group, encrypted with `logEncryptionKey` (the first caller's, in a stack), and
 * the acknowledgement of its findings. Call it after adding a trigger to `scope`'s stack.
 */
export function acknowledgeTriggerProvider(scope: IConstruct, logEncryptionKey: kms.IKey): void {
  const provider = Stack.of(scope).node.tryFindChild('AWSCDK.TriggerCustomResourceProviderCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  if (!provider || !handler) return;
  confineProviderLogs(provider, { encryptionKey: logEncryptionKey });
  Validations.of(handler).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "CDK's deploy-time trigger provider: it only invokes this stack's trigger functions through the Lambda API and holds no data. The VPC has no NAT or Lambda endpoint, so inside it the provider could not reach Lambda.",
  });
}
