import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { CDK_JSON_CONTEXT } from './cdk-context';

export const TEST_ACCOUNT = '123456789012';

export interface OneStackOptions {
  /** @default 'eu-west-1' */
  readonly region?: string;
}

/**
 * A bare app holding one stack, the way aws-cdk-lib tests its own constructs: the feature
 * flags of cdk.json (as `cdk synth` passes them), no function bundled (esbuild per test
 * would dwarf the test), and the region's zones given as context so a VPC needs no lookup.
 *
 * CDK's built-in CloudFormation validation is off here: its 9 MB WASM validator takes about
 * 3 s of CPU to start in every test file, which tripled the unit run. Like cdk-nag and
 * Control Tower it is a check of synthesized templates, and it still runs, errors failing
 * synthesis, on every whole-app synthesis in test/integration, which holds every construct.
 */
export function oneStack(options: OneStackOptions = {}): { readonly app: App; readonly stack: Stack } {
  const region = options.region ?? 'eu-west-1';
  const app = testApp(region);
  const stack = new Stack(app, 'Test', { env: { account: TEST_ACCOUNT, region } });
  return { app, stack };
}

/** The app of `oneStack`, for a test whose one stack is a stack class of `lib/`. */
export function testApp(region: string): App {
  return new App({
    builtinCloudFormationValidation: false,
    context: {
      ...CDK_JSON_CONTEXT,
      'aws:cdk:bundling-stacks': [],
      [`availability-zones:account=${TEST_ACCOUNT}:region=${region}`]: zonesOf(region),
    },
  });
}

/** The zones the platform's default topology uses: `<region>a/b/c`. */
export function zonesOf(region: string): string[] {
  return ['a', 'b', 'c'].map((zone) => `${region}${zone}`);
}

/** A VPC like the platform's: isolated subnets only, no NAT or internet gateway. */
export function isolatedVpc(stack: Stack, id = 'Vpc'): ec2.Vpc {
  return new ec2.Vpc(stack, id, {
    natGateways: 0,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
  });
}

/** Rule ids acknowledged on exactly this construct (not its children), without the plugin prefix's case. */
export function acknowledgedRules(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data as object))
    .map((id) => id.replace(/^annotation::/i, ''));
}
