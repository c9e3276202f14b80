import { DEPLOYMENT_MODELS } from '../../../lib/config/topology';
import { type BuiltPlatform, buildPlatform, resourcesOf, stackIn, templateOf } from '../../support/platform';

// What a first `cdk deploy --all` needs to give a working shop with no hand step: the schema
// migrated before any API serves, in both deployment models.
describe.each(DEPLOYMENT_MODELS)('schema migrations at deploy, %s', (deploymentModel) => {
  let built: BuiltPlatform;
  beforeAll(() => {
    built = buildPlatform({ deploymentModel });
  });

  test("each jurisdiction's primary region runs them with the master secret, every other region as the IAM migration role", () => {
    for (const jurisdiction of built.topology.jurisdictions) {
      for (const region of jurisdiction.regions) {
        const template = templateOf(built, `Commerce-${region}-Stateful`);
        expect(Object.keys(resourcesOf(template, 'Custom::Trigger'))).toEqual([
          expect.stringMatching(/^SchemaMigrationsTrigger/),
        ]);
        const migrationFunctions = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter(
          (fn) => fn.Properties?.Environment?.Variables?.DB_CLUSTER_ENDPOINT !== undefined,
        );
        expect(migrationFunctions).toHaveLength(1);
        const secret = migrationFunctions[0]?.Properties?.Environment?.Variables?.DB_SECRET_ARN;
        expect([region, secret !== undefined]).toEqual([region, region === jurisdiction.primaryRegion]);
      }
    }
  });

  test("every region's API deploys after every stateful stack of its jurisdiction, whose triggers migrate", () => {
    for (const jurisdiction of built.topology.jurisdictions) {
      const migrating = jurisdiction.regions.map((region) => stackIn(built.platform.stateful, region));
      for (const region of jurisdiction.regions) {
        const api = stackIn(built.platform.stateless, region);
        expect(api.dependencies.map((stack) => stack.stackName)).toEqual(
          expect.arrayContaining(migrating.map((stack) => stack.stackName)),
        );
        // The API's functions are in that stack and nowhere earlier.
        expect(Object.keys(resourcesOf(templateOf(built, api.stackName), 'AWS::Lambda::Function'))).toEqual(
          expect.arrayContaining([expect.stringMatching(/^ApiOrdersFunction/)]),
        );
      }
    }
  });
});
