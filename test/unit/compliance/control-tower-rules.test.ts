import { readFileSync } from 'node:fs';
import { type ControlTowerRule, controlTowerRules, ruleAppliesTo } from '../../../lib/compliance/control-tower-checks';

/**
 * What ControlTowerChecks relies on to run each rule over a slice of each template only:
 * the rules of the installed validator select resources by types they name and reach
 * others by logical id, and none reads a function's code location (whose asset hash the
 * verdict cache blanks). An upgrade that breaks this fails here.
 */
const rules = controlTowerRules();

/** The rule's statements: comments and the text of custom messages (`<< ... >>`) left out. */
function statements(rule: ControlTowerRule): string[] {
  const text = readFileSync(rule.file, 'utf8').replace(/<<[\s\S]*?>>/g, '');
  return text.split('\n').filter((line) => !line.trim().startsWith('#'));
}

describe('the Control Tower rules the plugin slices templates for', () => {
  test('are the 237 rules of the pack, each naming at least one resource type', () => {
    expect(rules).toHaveLength(237);
    expect(rules.filter((rule) => rule.resourceTypes.length === 0).map((rule) => rule.file)).toEqual([]);
  });

  test('reach resources only by type, or by a logical id another resource refers to', () => {
    const allowed = [
      /^Resources exists$/,
      /^let \w+ = Resources\.\*\[\s*(Type\b.*)?$/,
      /^let \w+ = Resources\[\s*$/,
      /^let \w+ = %doc\.Resources\[ keys == %resource_key \]$/,
      // A property named Resources (an EKS cluster's EncryptionConfig), not the template's.
      /^(some )?Resources(\[\*\])? (is_list|not empty|== "secrets")$/,
    ];
    const other = rules.flatMap((rule) =>
      statements(rule)
        .map((line) => line.trim())
        .filter((line) => /\bResources\b/.test(line))
        .filter((line) => !allowed.some((pattern) => pattern.test(line)))
        .map((line) => `${rule.file}: ${line}`),
    );
    expect(other).toEqual([]);
  });

  test('never read where a function or canary keeps its code', () => {
    const reading = rules.filter((rule) =>
      statements(rule).some((line) => /\b(S3Key|S3ObjectVersion|ZipFile)\b/.test(line)),
    );
    expect(reading.map((rule) => rule.file)).toEqual([]);
  });

  test('a rule applies to a template holding one of the types it names', () => {
    const rule: ControlTowerRule = {
      file: 'x.guard',
      service: 's3',
      resourceTypes: ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy'],
    };
    expect(ruleAppliesTo(rule, new Set(['AWS::S3::BucketPolicy']))).toBe(true);
    expect(ruleAppliesTo(rule, new Set(['AWS::SNS::Topic']))).toBe(false);
    expect(ruleAppliesTo({ ...rule, resourceTypes: [] }, new Set())).toBe(true);
  });
});
