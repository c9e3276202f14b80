import { type BuiltPlatform, buildPlatform, resourcesOf, templateOf } from '../../support/platform';
import { variablesOf } from '../../support/templates';

// Every region verifies tokens with keys held in the region: the authorizer of each serving
// region reads its own region's copy, made before the authorizer exists.
let built: BuiltPlatform;
beforeAll(() => {
  built = buildPlatform();
});

test("each region's authorizer reads its own region's copy of its jurisdiction's keys, made before it is deployed", () => {
  for (const jurisdiction of built.topology.jurisdictions) {
    for (const region of jurisdiction.regions) {
      const template = templateOf(built, `Commerce-${region}-Stateless`);
      const functions = resourcesOf(template, 'AWS::Lambda::Function');
      const [authorizerId, authorizer] = Object.entries(functions).filter(([id]) =>
        id.startsWith('ApiTokenAuthorizerFunction'),
      )[0] ?? ['', undefined];
      const parameter = `/Commerce/${jurisdiction.name}/user-pool-signing-keys`;
      expect([region, variablesOf(authorizer).SIGNING_KEYS_PARAMETER]).toEqual([region, parameter]);

      const reads = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes('ApiTokenAuthorizerFunctionServiceRole'))
        .map((policy) => JSON.stringify(policy.Properties?.PolicyDocument));
      expect(reads.join()).toContain(`:ssm:${region}:123456789012:parameter${parameter}`);
      expect(reads.join()).not.toContain('ssm:PutParameter');

      const [triggerId] = Object.keys(resourcesOf(template, 'Custom::Trigger')).filter((id) =>
        id.startsWith('SigningKeysCopy'),
      );
      const dependsOn = (template.toJSON().Resources[authorizerId] as { DependsOn?: string[] }).DependsOn ?? [];
      expect([region, dependsOn.includes(triggerId ?? 'none')]).toEqual([region, true]);

      const copier = Object.keys(functions).filter((id) => id.startsWith('SigningKeysFunction'));
      expect([region, copier.length]).toEqual([region, 1]);
    }
  }
});
