import { Match } from 'aws-cdk-lib/assertions';
import { API_ROUTES, routeKeyOf } from '../../../lambda/shared/api-contract';
import { isEuRegion } from '../../../lib/config/regions';
import { API_FUNCTION_SERVICES } from '../../support/api';
import { type BuiltPlatform, buildPlatform, resourcesOf, stackIn, templateOf } from '../../support/platform';
import { expectOnlyRotationReachesCluster, expectSecondaryMember } from '../../support/strong-store';
import { ingressSourcesOf } from '../../support/templates';

// What only the whole app shows: the stacks, their order and placement, and the wiring
// between constructs and stacks. Each construct's own properties are in test/unit.
let templates: BuiltPlatform['templates'];
let platform: BuiltPlatform['platform'];
let topology: BuiltPlatform['topology'];
// One synthesis of the active-active app (seconds on 2 cores), shared by every test.
beforeAll(() => {
  ({ templates, platform, topology } = buildPlatform());
});

const template = (name: string) => templateOf({ templates }, name);

describe('stacks of the default topology', () => {
  test('the edge and its logs stack plus a stateful and a stateless stack per region, each with an explicit env', () => {
    expect(Object.keys(templates).sort()).toEqual(
      [
        'Commerce-Edge',
        'Commerce-EdgeLogs',
        ...['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'].flatMap((r) => [
          `Commerce-${r}-Stateful`,
          `Commerce-${r}-Stateless`,
        ]),
      ].sort(),
    );
    expect(platform.edge.region).toBe('us-east-1');
    for (const [region, stack] of Object.entries(platform.stateful)) {
      expect([stack.account, stack.region, stack.terminationProtection]).toEqual(['123456789012', region, true]);
      expect(platform.stateless[region]?.region).toBe(region);
    }
  });

  test('dependencies deploy stateful stacks in jurisdiction order, the edge logs and the edge, then stateless', () => {
    const deps = (stack: { dependencies: { stackName: string }[] }) =>
      stack.dependencies.map((d) => d.stackName).sort();
    expect(deps(stackIn(platform.stateful, 'ap-southeast-1'))).toContain('Commerce-us-east-1-Stateful');
    expect(deps(stackIn(platform.stateful, 'eu-central-1'))).toContain('Commerce-eu-west-1-Stateful');
    expect(deps(stackIn(platform.stateful, 'us-east-1'))).toEqual([]);
    expect(deps(stackIn(platform.stateless, 'us-east-1'))).toEqual(
      expect.arrayContaining(['Commerce-us-east-1-Stateful', 'Commerce-ap-southeast-1-Stateful']),
    );
    // CloudFront sends the proof of origin before any regional API requires it; its logs go
    // to Commerce-EdgeLogs' buckets.
    for (const region of topology.servingRegions) {
      expect(deps(stackIn(platform.stateless, region))).toContain('Commerce-Edge');
    }
    expect(deps(platform.edge)).toEqual(['Commerce-EdgeLogs']);
  });
});

describe('data placement', () => {
  test.each([
    ['global', 'Commerce-ap-southeast-1-Stateful', ['us-east-1', 'ap-southeast-1']],
    ['eu', 'Commerce-eu-central-1-Stateful', ['eu-west-1', 'eu-central-1']],
  ])(
    'the %s global table has replicas exactly in its regions, each with PITR, deletion protection and its own region key',
    (name, stack, regions) => {
      const tables = Object.values(resourcesOf(template(stack), 'AWS::DynamoDB::GlobalTable'));
      expect(tables).toHaveLength(1);
      const props = tables[0]?.Properties as {
        TableName: string;
        SSESpecification: unknown;
        Replicas: Record<string, any>[];
      };
      expect(props.TableName).toBe(`Commerce-${name}-eventual`);
      expect(props.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(props.Replicas.map((r) => r.Region).sort()).toEqual([...regions].sort());
      for (const replica of props.Replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({
          PointInTimeRecoveryEnabled: true,
          RecoveryPeriodInDays: 35,
        });
        expect(replica.DeletionProtectionEnabled).toBe(true);
        const key = replica.SSESpecification.KMSMasterKeyId;
        if (replica.Region === stack.split('-').slice(1, -1).join('-')) {
          expect(key).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] });
        } else {
          expect(key['Fn::GetStackOutput']).toMatchObject({
            StackName: `Commerce-${replica.Region}-Stateful`,
            Region: replica.Region,
          });
        }
      }
      expect(tables[0]?.DeletionPolicy).toBe('Retain');
    },
  );

  test('no other stack holds a global table', () => {
    const holders = Object.entries(templates)
      .filter(([, t]) => Object.keys(resourcesOf(t, 'AWS::DynamoDB::GlobalTable')).length > 0)
      .map(([name]) => name);
    expect(holders.sort()).toEqual(['Commerce-ap-southeast-1-Stateful', 'Commerce-eu-central-1-Stateful']);
  });

  test.each([
    ['global', 'us-east-1', ['ap-southeast-1']],
    ['eu', 'eu-west-1', ['eu-central-1']],
  ])('the %s Aurora global database: primary in %s, secondaries in %j', (name, primary, secondaries) => {
    const identifier = `commerce-${name}-strong`;
    const primaryTemplate = template(`Commerce-${primary}-Stateful`);
    primaryTemplate.hasResourceProperties('AWS::RDS::GlobalCluster', {
      GlobalClusterIdentifier: identifier,
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      DeletionProtection: true,
    });
    primaryTemplate.hasResourceProperties('AWS::RDS::DBCluster', {
      GlobalClusterIdentifier: { Ref: Match.stringLikeRegexp('^StrongStoreGlobalCluster') },
      MasterUsername: 'commerce_admin',
      DatabaseName: 'commerce',
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] },
      EnableIAMDatabaseAuthentication: true,
      DeletionProtection: true,
    });
    for (const secondary of secondaries) {
      expectSecondaryMember(template(`Commerce-${secondary}-Stateful`), identifier);
    }
  });

  test('a Cognito user pool per jurisdiction, in its primary region only', () => {
    const pools = Object.entries(templates)
      .filter(([, t]) => Object.keys(resourcesOf(t, 'AWS::Cognito::UserPool')).length > 0)
      .map(([name]) => name);
    expect(pools.sort()).toEqual(['Commerce-eu-west-1-Stateful', 'Commerce-us-east-1-Stateful']);
    template('Commerce-eu-west-1-Stateful').hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'admin',
    });
  });

  test('every EU stack lives in an EU region and every region it names is in the EU', () => {
    // One deliberate exception: the functions' jurisdiction directory names each user
    // pool's region, only to tell a user of another jurisdiction where to go. No data
    // goes there; its exact content is pinned here so nothing else can hide in it.
    const directory = JSON.stringify({
      byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
      apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
    });
    for (const region of ['eu-west-1', 'eu-central-1']) {
      for (const kind of ['Stateful', 'Stateless']) {
        const stack = JSON.parse(JSON.stringify(template(`Commerce-${region}-${kind}`).toJSON()));
        for (const fn of Object.values(stack.Resources as Record<string, any>)) {
          const variables = fn.Type === 'AWS::Lambda::Function' ? fn.Properties?.Environment?.Variables : undefined;
          if (variables?.JURISDICTION_DIRECTORY === undefined) continue;
          expect(variables.JURISDICTION_DIRECTORY).toBe(directory);
          delete variables.JURISDICTION_DIRECTORY;
        }
        const json = JSON.stringify(stack);
        const named = new Set(
          json.match(/\b(us|eu|ap|sa|ca|me|af|il|mx)-(east|west|central|north|south|northeast|southeast)-\d\b/g),
        );
        expect(isEuRegion(region)).toBe(true);
        expect([...named].filter((r) => !isEuRegion(r))).toEqual([]);
      }
    }
  });
});

describe('regional compute', () => {
  test.each(['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'])(
    '%s runs one API function per domain, each told its jurisdiction and its table',
    (region) => {
      const fns = Object.values(resourcesOf(template(`Commerce-${region}-Stateless`), 'AWS::Lambda::Function'));
      const api = fns.filter((f) =>
        String((f.Properties?.Environment as any)?.Variables?.POWERTOOLS_SERVICE_NAME).startsWith('api-'),
      );
      expect(api.map((f) => (f.Properties as any).Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual(
        API_FUNCTION_SERVICES,
      );
      for (const fn of api) {
        expect((fn.Properties as any).Environment.Variables).toMatchObject({
          JURISDICTION: topology.jurisdictionOf(region).name,
          EVENTUAL_TABLE: `Commerce-${topology.jurisdictionOf(region).name}-eventual`,
        });
      }
    },
  );

  test.each([
    ['us-east-1', 'global'],
    ['ap-southeast-1', 'global'],
    ['eu-west-1', 'eu'],
    ['eu-central-1', 'eu'],
  ])(
    '%s forwards strong routes to the writer hostname of %s; its writer API runs them itself',
    (region, jurisdiction) => {
      const strongRoutes = API_ROUTES.filter((r) => r.strong).map(routeKeyOf);
      expect(strongRoutes.sort()).toEqual(['GET /api/orders/{id}', 'POST /api/orders', 'PUT /api/products/{sku}']);
      const t = template(`Commerce-${region}-Stateless`);
      const byId = resourcesOf(t, 'AWS::ApiGatewayV2::Integration');
      const routesOf = (apiPrefix: string) =>
        Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'))
          .filter((route) => ((route.Properties as any).ApiId.Ref as string).startsWith(apiPrefix))
          .map((route) => {
            const target = (route.Properties as any).Target['Fn::Join'][1][1].Ref as string;
            return {
              routeKey: (route.Properties as any).RouteKey as string,
              integration: byId[target]?.Properties as any,
            };
          });
      const publicRoutes = routesOf('ApiHttpApi');
      expect(publicRoutes.map((r) => r.routeKey).sort()).toEqual(
        API_ROUTES.filter((r) => !r.writerOnly)
          .map(routeKeyOf)
          .sort(),
      );
      for (const { routeKey, integration } of publicRoutes) {
        if (!strongRoutes.includes(routeKey)) {
          expect(integration.IntegrationType).toBe('AWS_PROXY');
          continue;
        }
        expect(integration).toMatchObject({
          IntegrationType: 'HTTP_PROXY',
          IntegrationUri: `https://writer.${jurisdiction}.api.shop.example.com`,
          RequestParameters: { 'overwrite:path': '$request.path' },
        });
      }
      const writerRoutes = routesOf('WriterApiHttpApi');
      expect(writerRoutes.map((r) => r.routeKey).sort()).toEqual([...strongRoutes, 'GET /api/health/writer'].sort());
      expect(writerRoutes.map((r) => r.integration.IntegrationType)).toEqual(Array(4).fill('AWS_PROXY'));
      // No stack of a region depends on another region's API any more.
      const deps = platform.stateless[region]?.dependencies.map((d) => d.stackName) ?? [];
      expect(deps.filter((name) => name.endsWith('-Stateless'))).toEqual([]);
    },
  );

  test('each function may touch only the items, keys and database its handler uses', () => {
    const t = template('Commerce-eu-west-1-Stateless');
    const functions = Object.values(resourcesOf(t, 'AWS::Lambda::Function'));
    const serviceOfRole = new Map<string, string>();
    for (const fn of functions) {
      const service = (fn.Properties as any).Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
      if (service) serviceOfRole.set((fn.Properties as any).Role['Fn::GetAtt'][0], service.replace('api-', ''));
    }
    const grants: Record<string, { actions: string[]; leadingKeys?: string[] }[]> = {};
    for (const policy of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
      const domain = serviceOfRole.get((policy.Properties as any).Roles[0].Ref);
      if (!domain) continue;
      for (const statement of (policy.Properties as any).PolicyDocument.Statement) {
        const actions = [statement.Action].flat() as string[];
        const leadingKeys = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
        grants[domain] = [...(grants[domain] ?? []), { actions, leadingKeys }];
      }
    }
    const dynamo = (domain: string) =>
      (grants[domain] ?? [])
        .filter((g) => g.actions.some((a) => a.startsWith('dynamodb:')))
        .map((g) => `${g.actions.sort().join(',')} on ${g.leadingKeys?.join(',')}`)
        .sort();
    expect(dynamo('health')).toEqual(['dynamodb:GetItem on HEALTH']);
    expect(dynamo('products')).toEqual(['dynamodb:Query,dynamodb:UpdateItem on PRODUCT#*']);
    expect(dynamo('likes')).toEqual([
      'dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem on IDEMPOTENCY#likes',
      'dynamodb:Query,dynamodb:UpdateItem on PRODUCT#*',
    ]);
    expect(dynamo('profile')).toEqual(['dynamodb:Query,dynamodb:UpdateItem on USER#*']);
    expect(dynamo('cart')).toEqual(['dynamodb:Query on PRODUCT#*,USER#*', 'dynamodb:UpdateItem on USER#*']);
    expect(dynamo('orders')).toEqual([]);
    const connects = (domain: string) => (grants[domain] ?? []).some((g) => g.actions.includes('rds-db:connect'));
    expect(['health', 'products', 'likes', 'profile', 'cart', 'orders'].filter(connects)).toEqual([
      'health',
      'products',
      'orders',
    ]);
    const writesKey = (domain: string) =>
      (grants[domain] ?? []).some((g) => g.actions.includes('kms:GenerateDataKey*'));
    expect(['health', 'products', 'likes', 'profile', 'cart', 'orders'].filter(writesKey)).toEqual([
      'products',
      'likes',
      'profile',
      'cart',
    ]);
  });

  test('no NAT or internet gateway anywhere; functions reach AWS through endpoints', () => {
    for (const t of Object.values(templates)) {
      t.resourceCountIs('AWS::EC2::NatGateway', 0);
      t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    }
    const t = template('Commerce-ap-southeast-1-Stateless');
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: 'com.amazonaws.ap-southeast-1.xray',
    });
  });

  test("the cache is encrypted with the key of its region's stateful stack, reachable only from the functions", () => {
    const t = template('Commerce-eu-west-1-Stateless');
    t.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      KmsKeyId: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'Commerce-eu-west-1-Stateful' }) },
    });
    const cacheGroup = Object.keys(resourcesOf(t, 'AWS::EC2::SecurityGroup')).find((id) =>
      id.startsWith('CacheSecurityGroup'),
    ) as string;
    const functionsGroup = Object.keys(resourcesOf(t, 'AWS::EC2::SecurityGroup')).find((id) =>
      id.startsWith('ApiFunctionsSecurityGroup'),
    ) as string;
    expect(ingressSourcesOf(t, cacheGroup)).toEqual([{ source: functionsGroup, from: 6379, to: 6380 }]);
  });

  test('the database accepts only the proxy, the rotation function and the migrations; the proxy only the functions', () => {
    const t = template('Commerce-us-east-1-Stateless');
    const groups = Object.keys(resourcesOf(t, 'AWS::EC2::SecurityGroup'));
    const proxyGroup = groups.find((id) => id.startsWith('StrongStoreProxySecurityGroup')) as string;
    const functionsGroup = groups.find((id) => id.startsWith('ApiFunctionsSecurityGroup')) as string;
    expect(ingressSourcesOf(t, proxyGroup)).toEqual([{ source: functionsGroup, from: 5432, to: 5432 }]);
    t.hasResourceProperties('AWS::RDS::DBProxy', {
      RequireTLS: true,
      DefaultAuthScheme: 'IAM_AUTH',
      EngineFamily: 'POSTGRESQL',
    });

    const clusterIngress = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupIngress')).filter((rule) =>
      JSON.stringify(rule.Properties?.GroupId).includes('StrongStoreClusterSecurityGroup'),
    );
    expect(clusterIngress.map((rule) => rule.Properties?.SourceSecurityGroupId)).toEqual([
      { 'Fn::GetAtt': [proxyGroup, 'GroupId'] },
    ]);
    expectOnlyRotationReachesCluster(template('Commerce-us-east-1-Stateful'), ['SchemaMigrationsSecurityGroup']);
  });
});
