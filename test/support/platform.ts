import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type CommercePlatform, createCommercePlatform } from '../../lib/commerce-platform';
import { resolveTopology, type Topology } from '../../lib/config/topology';
import { CDK_JSON_CONTEXT } from './cdk-context';

export { type Resources, resourcesOf } from './templates';

/** The jurisdiction of each serving region of the default topology, in config order. */
export const DEFAULT_JURISDICTION_OF: Readonly<Record<string, 'global' | 'eu'>> = {
  'us-east-1': 'global',
  'ap-southeast-1': 'global',
  'eu-west-1': 'eu',
  'eu-central-1': 'eu',
};

export interface BuiltPlatform {
  readonly app: App;
  readonly topology: Topology;
  readonly platform: CommercePlatform;
  /** Synthesized templates by stack name. */
  readonly templates: Record<string, Template>;
}

export interface TestAppOptions {
  /**
   * Run the Control Tower plugin (cfn-guard, about 40 s of CPU per synthesis); only the
   * compliance tests need it.
   * @default false
   */
  readonly controlTowerChecks?: boolean;
}

/**
 * Creates the whole app as `bin/` does, unsynthesized, from topology overrides merged over
 * the defaults — except that no function is bundled: tests read templates, and nine
 * stacks of esbuild runs would take minutes on a 2-core machine.
 */
export function createApp(
  overrides: Record<string, unknown> = {},
  options: TestAppOptions = {},
): Omit<BuiltPlatform, 'templates'> {
  // The feature flags of cdk.json, as `cdk synth` passes them.
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const topology = resolveTopology(overrides, 'test');
  const controlTowerChecks = options.controlTowerChecks ?? false;
  return { app, topology, platform: createCommercePlatform(app, topology, { controlTowerChecks }) };
}

/** The stack of `region` among a platform's stateful or stateless stacks; a missing one fails the test. */
export function stackIn<S>(stacks: Readonly<Record<string, S>>, region: string): S {
  const stack = stacks[region];
  if (!stack) throw new Error(`no stack in ${region}; have ${Object.keys(stacks).join(', ')}`);
  return stack;
}

/** The template of stack `name`; a missing one fails the test, naming the stacks there are. */
export function templateOf(built: Pick<BuiltPlatform, 'templates'>, name: string): Template {
  const template = built.templates[name];
  if (!template) throw new Error(`no stack ${name}; have ${Object.keys(built.templates).join(', ')}`);
  return template;
}

/** The template of `region`'s stateless stack. */
export const statelessTemplate = (built: Pick<BuiltPlatform, 'templates'>, region: string): Template =>
  templateOf(built, `Commerce-${region}-Stateless`);

/** The message synthesis fails with, or '' if it succeeds (which no `toContain` then matches). */
export function synthesisError(app: App): string {
  try {
    app.synth();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

/** Creates the app and synthesizes every stack. */
export function buildPlatform(overrides: Record<string, unknown> = {}, options: TestAppOptions = {}): BuiltPlatform {
  const { app, topology, platform } = createApp(overrides, options);
  const stacks = [
    platform.edge,
    platform.edgeLogs,
    ...Object.values(platform.stateful),
    ...Object.values(platform.stateless),
  ];
  const templates = Object.fromEntries(stacks.map((stack) => [stack.stackName, Template.fromStack(stack)]));
  return { app, topology, platform, templates };
}

/** Template JSON with content hashes of assets replaced, so snapshots change only with intent. */
export function normalisedTemplate(template: Template): unknown {
  const text = JSON.stringify(template.toJSON())
    .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, 'ASSET_HASH$1')
    // A function version's logical id ends in a hash of the function, code asset included.
    .replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1_VERSION_HASH');
  return JSON.parse(text);
}
