import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges the findings of CDK's trigger provider, the one deploy-time function per
 * stack (a fixed id) that invokes the stack's `triggers.Trigger` handlers and reports their
 * result to CloudFormation. Call it after adding a trigger to `scope`'s stack.
 */
export function acknowledgeTriggerProvider(scope: IConstruct): void {
  const provider = Stack.of(scope).node.tryFindChild('AWSCDK.TriggerCustomResourceProviderCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "CDK's deploy-time trigger provider: it only invokes this stack's trigger functions through the Lambda API and holds no data. The VPC has no NAT or Lambda endpoint, so inside it the provider could not reach Lambda.",
  });
}
