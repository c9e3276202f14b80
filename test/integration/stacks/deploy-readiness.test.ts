import { DEPLOYMENT_MODELS } from '../../../lib/config/topology';
import { type BuiltPlatform, buildPlatform, resourcesOf, stackIn, templateOf } from '../../support/platform';
import { variablesOf } from '../../support/templates';

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
          (fn) => variablesOf(fn).DB_INSTANCE_ENDPOINTS !== undefined,
        );
        expect(migrationFunctions).toHaveLength(1);
        const secret = variablesOf(migrationFunctions[0]).DB_SECRET_ARN;
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

// The card processor: only Stripe needs the internet, and only its payments function gets it.
describe('the network path of payments', () => {
  const processors = {
    unconfigured: { processor: 'unconfigured' },
    recording: { processor: 'recording' },
    stripe: { processor: 'stripe', secretName: 'commerce/stripe' },
  } as const;
  const built: Partial<Record<keyof typeof processors, BuiltPlatform>> = {};
  beforeAll(() => {
    for (const [name, payments] of Object.entries(processors)) {
      built[name as keyof typeof processors] = buildPlatform({ payments });
    }
  });
  const platformOf = (name: keyof typeof processors): BuiltPlatform => {
    const platform = built[name];
    if (!platform) throw new Error(`no platform built for ${name}`);
    return platform;
  };

  /** Every function outside a VPC, as `<stack>/<logical id>`, CDK's own deploy-time handlers included. */
  const functionsOutsideVpc = (platform: BuiltPlatform): string[] =>
    Object.entries(platform.templates).flatMap(([stackName, template]) =>
      Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))
        .filter(([, fn]) => fn.Properties?.VpcConfig === undefined)
        .map(([id]) => `${stackName}/${id}`),
    );

  const internetRoutes = (platform: BuiltPlatform): string[] =>
    Object.entries(platform.templates).flatMap(([stackName, template]) => [
      ...['AWS::EC2::NatGateway', 'AWS::EC2::InternetGateway', 'AWS::EC2::EgressOnlyInternetGateway'].flatMap((type) =>
        Object.keys(resourcesOf(template, type)).map((id) => `${stackName}/${id}`),
      ),
      ...Object.entries(resourcesOf(template, 'AWS::EC2::Route'))
        .filter(([, route]) =>
          ['0.0.0.0/0', '::/0'].includes(
            String(route.Properties?.DestinationCidrBlock ?? route.Properties?.DestinationIpv6CidrBlock),
          ),
        )
        .map(([id]) => `${stackName}/${id}`),
    ]);

  const ordersFunctionOf = (platform: BuiltPlatform, region: string) => {
    const functions = resourcesOf(templateOf(platform, `Commerce-${region}-Stateless`), 'AWS::Lambda::Function');
    const orders = Object.entries(functions).filter(([id]) => id.startsWith('ApiOrdersFunction'));
    if (orders.length !== 1) throw new Error(`expected one orders function in ${region}`);
    return orders[0] as [string, (typeof functions)[string]];
  };

  test.each(['unconfigured', 'recording'] as const)(
    'with %s: no NAT or internet gateway, no default route, and the orders function is told the processor',
    (name) => {
      const platform = platformOf(name);
      expect(internetRoutes(platform)).toEqual([]);
      expect(functionsOutsideVpc(platform)).toEqual(functionsOutsideVpc(platformOf('unconfigured')));
      for (const region of platform.topology.servingRegions) {
        expect(variablesOf(ordersFunctionOf(platform, region)[1])).toMatchObject({ PAYMENT_PROCESSOR: name });
      }
    },
  );

  test('with stripe: one payments function per region is the only function that gains the internet, still with no NAT', () => {
    const stripe = platformOf('stripe');
    expect(internetRoutes(stripe)).toEqual([]);
    const before = new Set(functionsOutsideVpc(platformOf('unconfigured')));
    const gained = functionsOutsideVpc(stripe).filter((fn) => !before.has(fn));
    const payments = /^Commerce-(.+)-Stateless\/CardPaymentsPaymentsFunction[0-9A-F]{8}$/;
    expect(gained.map((fn) => payments.exec(fn)?.[1] ?? fn).sort()).toEqual([...stripe.topology.servingRegions].sort());
    expect(gained).toHaveLength(stripe.topology.servingRegions.length);
  });

  test('with stripe: the orders function alone invokes it, through a Lambda endpoint open on 443 to it alone', () => {
    const stripe = platformOf('stripe');
    for (const region of stripe.topology.servingRegions) {
      const template = templateOf(stripe, `Commerce-${region}-Stateless`);
      const [, orders] = ordersFunctionOf(stripe, region);
      const [paymentsId] = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).filter((id) =>
        id.startsWith('CardPaymentsPaymentsFunction'),
      );
      expect(variablesOf(orders)).toMatchObject({
        PAYMENT_PROCESSOR: 'stripe',
        PAYMENTS_FUNCTION: { Ref: paymentsId },
      });
      expect(orders.Properties?.Timeout).toBe(27);
      const invokers = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy.Properties?.PolicyDocument).includes(`"Fn::GetAtt":["${paymentsId}","Arn"]`),
      );
      expect(invokers.map((policy) => JSON.stringify(policy.Properties?.Roles))).toEqual([
        expect.stringContaining('ApiOrdersFunctionServiceRole'),
      ]);
      const endpoints = Object.entries(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).filter(([, endpoint]) =>
        JSON.stringify(endpoint.Properties?.ServiceName).includes('lambda'),
      );
      expect(endpoints).toHaveLength(1);
      const endpointIngress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).filter((rule) =>
        JSON.stringify(rule.Properties?.GroupId).includes('CardPaymentsLambdaEndpoint'),
      );
      expect(
        endpointIngress.map((rule) => [
          rule.Properties?.FromPort,
          JSON.stringify(rule.Properties?.SourceSecurityGroupId),
        ]),
      ).toEqual([[443, expect.stringContaining('ApiFunctionsSecurityGroup')]]);
    }
  });
});

// The canary user: created and enrolled by the deploy in every region of every jurisdiction.
describe('canary identity at deploy', () => {
  let built: BuiltPlatform;
  beforeAll(() => {
    built = buildPlatform();
  });

  test('every region of every jurisdiction enrols its canary user with a trigger and keeps its credentials in a secret of its own', () => {
    for (const jurisdiction of built.topology.jurisdictions) {
      for (const region of jurisdiction.regions) {
        const template = templateOf(built, `Commerce-${region}-Stateless`);
        const triggers = Object.keys(resourcesOf(template, 'Custom::Trigger')).filter((id) =>
          id.startsWith('CanaryIdentity'),
        );
        expect([region, triggers]).toEqual([region, [expect.stringMatching(/^CanaryIdentityEnrolment/)]]);
        const [secretId, ...others] = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'));
        expect([region, secretId, others]).toEqual([region, expect.stringMatching(/^CanaryIdentityCredentials/), []]);
        const enrolment = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter(
          (fn) => variablesOf(fn).CANARY_USERNAME !== undefined,
        );
        expect(enrolment.map((fn) => variablesOf(fn))).toEqual([
          expect.objectContaining({
            CANARY_USERNAME: `canary-${region}@${built.topology.config.domainName}`,
            CANARY_SECRET_ARN: { Ref: secretId },
          }),
        ]);
      }
    }
  });

  test("both canaries of a region read that secret, and may read nothing else of Secrets Manager but the origin secret's replica", () => {
    for (const region of built.topology.servingRegions) {
      const template = templateOf(built, `Commerce-${region}-Stateless`);
      const [secretId] = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'));
      const canaries = Object.values(resourcesOf(template, 'AWS::Synthetics::Canary'));
      expect(canaries).toHaveLength(2);
      for (const canary of canaries) {
        const variables = (canary.Properties?.RunConfig as { EnvironmentVariables?: Record<string, unknown> })
          ?.EnvironmentVariables;
        expect(variables?.CANARY_SECRET_ARN).toEqual({ Ref: secretId });
      }
      const secretStatements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .flatMap((policy) => (policy.Properties?.PolicyDocument as { Statement: any[] } | undefined)?.Statement ?? [])
        .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'));
      const originReplica = `arn:aws:secretsmanager:${region}:123456789012:secret:Commerce/origin-verify-??????`;
      const resources = secretStatements.flatMap((statement) =>
        [statement.Resource].flat().map((r) => JSON.stringify(r)),
      );
      expect(resources).toContain(`{"Ref":"${secretId}"}`);
      for (const resource of resources) {
        expect([`{"Ref":"${secretId}"}`, JSON.stringify(originReplica)]).toContain(resource);
      }
    }
  });

  test('no template holds a secret value: every secret is generated at deploy time or written by a function', () => {
    for (const [stackName, template] of Object.entries(built.templates)) {
      for (const [id, secret] of Object.entries(resourcesOf(template, 'AWS::SecretsManager::Secret'))) {
        expect([stackName, id, secret.Properties?.SecretString]).toEqual([stackName, id, undefined]);
      }
      const text = JSON.stringify(template.toJSON());
      expect([stackName, /"(password|totpSecret)"\s*:\s*"[^"]+"/.test(text)]).toEqual([stackName, false]);
    }
  });
});
