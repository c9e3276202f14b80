import { Template } from 'aws-cdk-lib/assertions';
import { EdgeWebAcl } from '../../../lib/edge/web-acl';
import { oneStack } from '../../support/one-stack';
import { onlyOfType } from '../../support/templates';

function rulesOf(rateLimitPer5Minutes?: number): { scope: string; defaultAction: unknown; rules: any[] } {
  const { stack } = oneStack({ region: 'us-east-1' });
  new EdgeWebAcl(stack, 'WebAcl', { rateLimitPer5Minutes });
  const [, acl] = onlyOfType(Template.fromStack(stack), 'AWS::WAFv2::WebACL');
  return { scope: acl.Properties.Scope, defaultAction: acl.Properties.DefaultAction, rules: acl.Properties.Rules };
}

describe('EdgeWebAcl', () => {
  test('a CLOUDFRONT-scope ACL: three AWS managed rule groups, then a per-IP rate rule that blocks', () => {
    // given, when
    const { scope, defaultAction, rules } = rulesOf();
    // then
    expect(scope).toBe('CLOUDFRONT');
    expect(defaultAction).toEqual({ Allow: {} });
    expect(rules.map((r) => [r.Priority, r.Name])).toEqual([
      [0, 'AWSManagedRulesCommonRuleSet'],
      [1, 'AWSManagedRulesKnownBadInputsRuleSet'],
      [2, 'AWSManagedRulesAmazonIpReputationList'],
      [3, 'RateLimitPerIp'],
    ]);
    for (const rule of rules.slice(0, 3)) {
      expect(rule).toMatchObject({
        OverrideAction: { None: {} },
        Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: rule.Name } },
      });
    }
    expect(rules[3]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 2000 } },
    });
    for (const rule of rules) {
      expect(rule.VisibilityConfig).toEqual({
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
        MetricName: rule.Name,
      });
    }
  });

  test('the rate limit can be set', () => {
    // given, when
    const { rules } = rulesOf(500);
    // then
    expect(rules.find((r) => r.Statement.RateBasedStatement)?.Statement.RateBasedStatement.Limit).toBe(500);
  });
});
