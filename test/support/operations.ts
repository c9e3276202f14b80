import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from './templates';

/** The on-call address of the operations tests. */
export const ON_CALL = 'oncall@example.com';

/** Topology overrides with an on-call address and alarm thresholds other than the defaults. */
export const ON_CALL_OPERATIONS = {
  operations: { alarmThresholds: { api5xxPercent: 2, evaluationPeriods: 4 }, alarmEmails: [ON_CALL] },
};

/** Asserts the template's one subscription: the on-call address, by e-mail, to the topic `topicId`. */
export function expectOnCallSubscription(template: Template, topicId: string): void {
  expect(Object.values(resourcesOf(template, 'AWS::SNS::Subscription'))).toEqual([
    expect.objectContaining({
      Properties: expect.objectContaining({ Protocol: 'email', Endpoint: ON_CALL, TopicArn: { Ref: topicId } }),
    }),
  ]);
}
