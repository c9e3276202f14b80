import type { NetworkTarget } from './aws-requests';
import type { DeployedFunction, Deployment } from './deployment';

export interface Reachability {
  readonly reachable: boolean;
  /** How the call gets there, or what is missing. */
  readonly path: string;
}

type Resolved = ReturnType<Deployment['app']['resourcesIn']>[number];

/**
 * Whether `fn`, placed as the template places it, can open a connection to `target`:
 * a function outside a VPC reaches public endpoints only; inside one, an AWS API needs a
 * VPC endpoint of that service in the region (gateway: in the subnets' route tables;
 * interface: private DNS and a security group that admits the function on 443) or a
 * route to the internet; the proxy and the cache need their group to admit the function
 * on the port, and the function's group to let it out.
 */
export function reach(target: NetworkTarget, fn: DeployedFunction, deployment: Deployment): Reachability {
  const network = new RegionNetwork(deployment, fn.scope.region);
  if (!fn.vpc) {
    if (target.kind === 'aws-service' || target.kind === 'internet')
      return { reachable: true, path: "Lambda's own internet access (outside any VPC)" };
    return { reachable: false, path: `${target.host} is inside a VPC and the function is not` };
  }
  const { subnetIds, securityGroupIds } = fn.vpc;
  switch (target.kind) {
    case 'aws-service':
      return target.region === fn.scope.region
        ? network.toService(target.service, subnetIds, securityGroupIds)
        : network.toInternet(subnetIds, securityGroupIds, 443, `${target.host} (another region)`);
    case 'internet':
      return network.toInternet(subnetIds, securityGroupIds, target.port, target.host);
    case 'database':
    case 'cache':
      return network.toPrivateEndpoint(target.host, target.port, subnetIds, securityGroupIds);
  }
}

class RegionNetwork {
  constructor(
    private readonly deployment: Deployment,
    private readonly region: string,
  ) {}

  private all(type: string): Resolved[] {
    return this.deployment.app.resourcesIn(this.region, type);
  }

  private idOf(resource: Resolved): string {
    return this.deployment.app.resolve(resource.stack, { Ref: resource.id });
  }

  private routeTableOf(subnetId: string): string | undefined {
    return this.all('AWS::EC2::SubnetRouteTableAssociation').find(({ props }) => props.SubnetId === subnetId)?.props
      .RouteTableId;
  }

  private vpcOf(subnetId: string): string | undefined {
    return this.all('AWS::EC2::Subnet').find((subnet) => this.idOf(subnet) === subnetId)?.props.VpcId;
  }

  toService(service: string, subnetIds: readonly string[], groups: readonly string[]): Reachability {
    const serviceName = `com.amazonaws.${this.region}.${service}`;
    const vpc = this.vpcOf(subnetIds[0] as string);
    const endpoint = this.all('AWS::EC2::VPCEndpoint').find(
      ({ props }) => props.ServiceName === serviceName && props.VpcId === vpc,
    );
    if (!endpoint) return this.toInternet(subnetIds, groups, 443, `${service} (no VPC endpoint ${serviceName})`);
    if (endpoint.props.VpcEndpointType === 'Gateway') {
      const routeTables = (endpoint.props.RouteTableIds ?? []) as string[];
      const missing = subnetIds.filter((subnet) => !routeTables.includes(this.routeTableOf(subnet) as string));
      if (missing.length > 0)
        return {
          reachable: false,
          path: `gateway endpoint ${endpoint.id} is not in the route tables of ${missing.join(', ')}`,
        };
      // The endpoint is a route to the service's prefix list: the function's group must let 443 out to it.
      const out = groups.some((group) =>
        this.egress(group).some(
          (rule) => allowsPort(rule, 443) && (rule.CidrIp === '0.0.0.0/0' || rule.DestinationPrefixListId),
        ),
      );
      return out
        ? { reachable: true, path: `gateway endpoint ${endpoint.id}` }
        : {
            reachable: false,
            path: `gateway endpoint ${endpoint.id}: no egress rule of ${groups.join(', ')} lets 443 out`,
          };
    }
    if (endpoint.props.PrivateDnsEnabled !== true)
      return {
        reachable: false,
        path: `interface endpoint ${endpoint.id} has no private DNS: ${service}'s hostname misses it`,
      };
    const blocked = this.blockedBetween(groups, endpoint.props.SecurityGroupIds ?? [], 443);
    return blocked
      ? { reachable: false, path: `interface endpoint ${endpoint.id}: ${blocked}` }
      : { reachable: true, path: `interface endpoint ${endpoint.id}` };
  }

  toInternet(subnetIds: readonly string[], groups: readonly string[], port: number, what: string): Reachability {
    const routed = subnetIds.every((subnet) =>
      this.all('AWS::EC2::Route').some(
        ({ props }) =>
          props.RouteTableId === this.routeTableOf(subnet) &&
          props.DestinationCidrBlock === '0.0.0.0/0' &&
          // A function's network interface has no public address: an internet gateway route
          // alone does not take it out, a NAT (or transit gateway, or appliance) does.
          (props.NatGatewayId || props.TransitGatewayId || props.NetworkInterfaceId),
      ),
    );
    if (!routed)
      return { reachable: false, path: `${what}: no route to the internet from subnets ${subnetIds.join(', ')}` };
    const out = groups.some((group) =>
      this.egress(group).some((rule) => allowsPort(rule, port) && rule.CidrIp === '0.0.0.0/0'),
    );
    return out
      ? { reachable: true, path: 'route to the internet' }
      : { reachable: false, path: `${what}: the function's security groups allow no egress on ${port}` };
  }

  toPrivateEndpoint(host: string, port: number, subnetIds: readonly string[], groups: readonly string[]): Reachability {
    const target = this.privateTarget(host);
    if (!target) return { reachable: false, path: `no proxy, instance or cache in ${this.region} answers at ${host}` };
    const vpc = this.vpcOf(subnetIds[0] as string);
    const elsewhere = target.groups.filter((group) => this.groupVpc(group) !== vpc);
    if (elsewhere.length > 0)
      return { reachable: false, path: `${target.id} is in another VPC than the function's (${vpc})` };
    const blocked = this.blockedBetween(groups, target.groups, port);
    return blocked
      ? { reachable: false, path: `${target.id}: ${blocked}` }
      : { reachable: true, path: `${target.id} on ${port}` };
  }

  /** The proxy, instance or cache whose endpoint is `host`, with its security groups. */
  private privateTarget(host: string): { id: string; groups: string[] } | undefined {
    const address = (resource: Resolved, attribute: string) =>
      this.deployment.app.resolve(resource.stack, { 'Fn::GetAtt': [resource.id, attribute] });
    const proxy = this.all('AWS::RDS::DBProxy').find((p) => address(p, 'Endpoint') === host);
    if (proxy) return { id: proxy.id, groups: proxy.props.VpcSecurityGroupIds ?? [] };
    const cache = this.all('AWS::ElastiCache::ServerlessCache').find((c) => address(c, 'Endpoint.Address') === host);
    if (cache) return { id: cache.id, groups: cache.props.SecurityGroupIds ?? [] };
    const instance = this.all('AWS::RDS::DBInstance').find((i) => address(i, 'Endpoint.Address') === host);
    if (!instance) return undefined;
    const cluster = this.all('AWS::RDS::DBCluster').find((c) => this.idOf(c) === instance.props.DBClusterIdentifier);
    return { id: instance.id, groups: cluster?.props.VpcSecurityGroupIds ?? [] };
  }

  /** Why no group of `from` can open `port` to any group of `to`, or undefined when one can. */
  private blockedBetween(from: readonly string[], to: readonly string[], port: number): string | undefined {
    const ingress = to.some((target) =>
      this.ingress(target).some(
        (rule) => allowsPort(rule, port) && (from.includes(rule.SourceSecurityGroupId) || rule.CidrIp === '0.0.0.0/0'),
      ),
    );
    if (!ingress) return `no ingress rule of ${to.join(', ')} admits ${from.join(', ')} on ${port}`;
    const egress = from.some((source) =>
      this.egress(source).some(
        (rule) =>
          allowsPort(rule, port) && (to.includes(rule.DestinationSecurityGroupId) || rule.CidrIp === '0.0.0.0/0'),
      ),
    );
    if (!egress) return `no egress rule of ${from.join(', ')} lets it out to ${to.join(', ')} on ${port}`;
    return undefined;
  }

  private groupVpc(group: string): string | undefined {
    return this.all('AWS::EC2::SecurityGroup').find((g) => this.idOf(g) === group)?.props.VpcId;
  }

  private rules(group: string, direction: 'Ingress' | 'Egress'): Record<string, any>[] {
    const owner = this.all('AWS::EC2::SecurityGroup').find((g) => this.idOf(g) === group);
    // A group declared without egress rules keeps EC2's default: everything out.
    const declared = owner?.props[`SecurityGroup${direction}`] as Record<string, any>[] | undefined;
    const inline = declared ?? (direction === 'Egress' && owner ? [{ IpProtocol: '-1', CidrIp: '0.0.0.0/0' }] : []);
    const standalone = this.all(`AWS::EC2::SecurityGroup${direction}`)
      .filter(({ props }) => props.GroupId === group)
      .map(({ props }) => props);
    return [...inline, ...standalone];
  }

  private ingress(group: string) {
    return this.rules(group, 'Ingress');
  }

  private egress(group: string) {
    return this.rules(group, 'Egress');
  }
}

function allowsPort(rule: Record<string, any>, port: number): boolean {
  if (String(rule.IpProtocol) === '-1') return true;
  return rule.IpProtocol === 'tcp' && Number(rule.FromPort) <= port && port <= Number(rule.ToPort);
}
