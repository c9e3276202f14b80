/**
 * Resolves CloudFormation intrinsics to the concrete values a deployment would have, with a
 * placeholder for each physical id CloudFormation would generate (a key's id, a proxy's
 * resource id, an endpoint's address): derived from the logical id, so the same resource
 * gets the same value wherever it is referenced, in its own stack or another one.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface DeployedStack {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly template: CfnTemplate;
}

/** Every stack of an app, so references across stacks and regions resolve. */
export class DeployedApp {
  private readonly byName: ReadonlyMap<string, DeployedStack>;

  constructor(readonly stacks: readonly DeployedStack[]) {
    this.byName = new Map(stacks.map((stack) => [stack.name, stack]));
  }

  stack(name: string): DeployedStack {
    const stack = this.byName.get(name);
    if (!stack) throw new Error(`no stack ${name}; have ${[...this.byName.keys()].join(', ')}`);
    return stack;
  }

  /** Every resource of `type` in `region`'s stacks, resolved, with its stack and logical id. */
  resourcesIn(region: string, type: string) {
    return this.stacks
      .filter((stack) => stack.region === region)
      .flatMap((stack) =>
        Object.entries(stack.template.Resources)
          .filter(([, resource]) => resource.Type === type)
          .map(([id, resource]) => ({
            stack,
            id,
            props: (this.resolve(stack, resource.Properties ?? {}) ?? {}) as Record<string, any>,
          })),
      );
  }

  /** `value` with every intrinsic resolved as in `stack`. */
  resolve(stack: DeployedStack, value: unknown): any {
    if (Array.isArray(value)) return value.map((item) => this.resolve(stack, item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::')))
      return this.intrinsic(stack, first[0], first[1]);
    return Object.fromEntries(
      entries.map(([key, item]) => [key, this.resolve(stack, item)]).filter(([, item]) => item !== NO_VALUE),
    );
  }

  private intrinsic(stack: DeployedStack, name: string, argument: any): any {
    const resolve = (value: unknown) => this.resolve(stack, value);
    switch (name) {
      case 'Ref':
        return this.ref(stack, argument);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/);
        return this.attribute(stack, id, attribute);
      }
      case 'Fn::Join':
        return (resolve(argument[1]) as unknown[]).join(argument[0]);
      case 'Fn::Select':
        return (resolve(argument[1]) as unknown[])[Number(resolve(argument[0]))];
      case 'Fn::Split':
        return String(resolve(argument[1])).split(argument[0]);
      case 'Fn::Sub':
        return this.sub(stack, argument);
      case 'Fn::FindInMap': {
        const [map, top, second] = resolve(argument) as string[];
        return stack.template.Mappings?.[map as string]?.[top as string]?.[second as string];
      }
      case 'Fn::GetStackOutput': {
        const other = this.stack(resolve(argument.StackName));
        const output = other.template.Outputs?.[resolve(argument.OutputName)];
        if (!output) throw new Error(`${other.name} has no output ${argument.OutputName}`);
        return this.resolve(other, output.Value);
      }
      case 'Fn::ImportValue':
        return this.importValue(resolve(argument));
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${stack.region}${zone}`);
      case 'Fn::Base64':
        return Buffer.from(String(resolve(argument))).toString('base64');
      default:
        throw new Error(`${stack.name}: cannot resolve ${name}`);
    }
  }

  private sub(stack: DeployedStack, argument: string | [string, Record<string, unknown>]): string {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, reference: string) => {
      if (literal) return `\${${reference}}`;
      if (reference in variables) return String(this.resolve(stack, variables[reference]));
      const [id, attribute] = reference.split(/\.(.*)/);
      return String(attribute ? this.attribute(stack, id as string, attribute) : this.ref(stack, id as string));
    });
  }

  private importValue(name: string): unknown {
    for (const stack of this.stacks)
      for (const output of Object.values(stack.template.Outputs ?? {}))
        if (output.Export && this.resolve(stack, output.Export.Name) === name) return this.resolve(stack, output.Value);
    throw new Error(`no stack exports ${name}`);
  }

  private ref(stack: DeployedStack, id: string): string | typeof NO_VALUE {
    if (id === 'AWS::NoValue') return NO_VALUE;
    const pseudo: Record<string, string> = {
      'AWS::Region': stack.region,
      'AWS::AccountId': stack.account,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack.name,
      'AWS::StackId': `arn:aws:cloudformation:${stack.region}:${stack.account}:stack/${stack.name}/rehearsal`,
    };
    if (id in pseudo) return pseudo[id] as string;
    const resource = stack.template.Resources[id];
    if (!resource) throw new Error(`${stack.name}: Ref to unknown ${id}`);
    // An attachment's Ref is the ARN of the secret it attaches.
    if (resource.Type === 'AWS::SecretsManager::SecretTargetAttachment')
      return this.resolve(stack, resource.Properties?.SecretId);
    return physicalId(stack, id, resource);
  }

  private attribute(stack: DeployedStack, id: string, attribute: string): unknown {
    const resource = stack.template.Resources[id];
    if (!resource) throw new Error(`${stack.name}: GetAtt of unknown ${id}`);
    const props = (this.resolve(stack, resource.Properties ?? {}) ?? {}) as Record<string, any>;
    const { region, account } = stack;
    const name = physicalId(stack, id, resource);
    const host = (kind: string) => `${name}.${kind}.${region}.${hostDomain(resource.Type)}`;
    const attributes: Record<string, () => unknown> = {
      Arn: () => arnOf(stack, id, resource),
      KeyId: () => name,
      GroupId: () => name,
      DBProxyArn: () => `arn:aws:rds:${region}:${account}:db-proxy:prx-${name}`,
      Endpoint: () => host('proxy'),
      DBClusterResourceId: () => `cluster-${name}`,
      'Endpoint.Address': () => host(resource.Type === 'AWS::RDS::DBInstance' ? 'instance' : 'endpoint'),
      'Endpoint.Port': () => String(props.Port ?? defaultPort(resource.Type)),
      'ReadEndpoint.Address': () => host('reader'),
      'ReaderEndpoint.Address': () => host('reader'),
      // ElastiCache Serverless serves reads on the port after the primary's (6380).
      'ReaderEndpoint.Port': () => String(Number(defaultPort(resource.Type)) + 1),
      CidrBlock: () => props.CidrBlock,
      ProviderURL: () => `https://cognito-idp.${region}.amazonaws.com/${name}`,
      // A canary's id (a UUID in AWS), which names its function and log group.
      Id: () => name,
    };
    const known = attributes[attribute];
    if (known) return known();
    // A custom resource's attributes are whatever its handler returns: opaque here.
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource')
      return `${name}.${attribute}`;
    throw new Error(`${stack.name}: no placeholder for ${resource.Type} attribute ${attribute} (of ${id})`);
  }
}

function hostDomain(type: string): string {
  return type.startsWith('AWS::ElastiCache') ? 'cache.amazonaws.com' : 'rds.amazonaws.com';
}

function defaultPort(type: string): string {
  return type.startsWith('AWS::ElastiCache') ? '6379' : '5432';
}

/** `Ref`'s placeholder for `AWS::NoValue`: the property or list item is left out. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * What `Ref` returns for a resource: its name where it has one, else an id derived from the
 * stack's name and the logical id, so the same logical id in two stacks (or two regions)
 * names two resources, as CloudFormation's generated names do.
 */
function physicalId(stack: DeployedStack, id: string, resource: CfnResource): string {
  const props = resource.Properties ?? {};
  const lower = `${stack.name}-${id}`.toLowerCase();
  const named = (field: string) => (typeof props[field] === 'string' ? (props[field] as string) : undefined);
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return named('TableName') ?? lower;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${stack.region}:${stack.account}:secret:${named('Name') ?? lower}-AbCdEf`;
    case 'AWS::SSM::Parameter':
      return named('Name') ?? lower;
    case 'AWS::Lambda::Function':
      return named('FunctionName') ?? lower;
    case 'AWS::IAM::Role':
      return named('RoleName') ?? lower;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${stack.account}:policy/${named('ManagedPolicyName') ?? lower}`;
    case 'AWS::Cognito::UserPool':
      return `${stack.region}_${id}`;
    case 'AWS::EC2::SecurityGroup':
      return `sg-${lower}`;
    case 'AWS::EC2::Subnet':
      return `subnet-${lower}`;
    case 'AWS::EC2::VPC':
      return `vpc-${lower}`;
    case 'AWS::EC2::RouteTable':
      return `rtb-${lower}`;
    case 'AWS::EC2::VPCEndpoint':
      return `vpce-${lower}`;
    default:
      return lower;
  }
}

function arnOf(stack: DeployedStack, id: string, resource: CfnResource): string {
  const { region, account } = stack;
  const name = physicalId(stack, id, resource);
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${name}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${account}:function:${name}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${name}`;
    case 'AWS::Cognito::UserPool':
      return `arn:aws:cognito-idp:${region}:${account}:userpool/${name}`;
    case 'AWS::SecretsManager::Secret':
      return name;
    case 'AWS::SSM::Parameter':
      return `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
    case 'AWS::RDS::DBCluster':
      return `arn:aws:rds:${region}:${account}:cluster:${name}`;
    default:
      return `arn:aws:${resource.Type.split('::')[1]?.toLowerCase()}:${region}:${account}:${name}`;
  }
}
