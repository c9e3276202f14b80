import type { JurisdictionDirectory } from '../../lambda/residency/jurisdiction-guard';

/**
 * Source of the CloudFront Function (JavaScript runtime 2.0, viewer request) that sends a
 * signed-in user's API requests to their home jurisdiction's API host — EU-home users to
 * `eu.api.<domain>`, which only EU regions answer — wherever the user is. Requests without
 * a token keep the default origin (`api.<domain>`, latency-routed).
 *
 * A CloudFront Function rather than Lambda@Edge: it runs on every viewer request within
 * the edge's sub-millisecond budget, needs no us-east-1 Lambda replicated worldwide, and
 * can change the origin (`cf.updateRequestOrigin`). The token is only decoded here, not
 * verified: routing is all it decides. The region's authorizer verifies it, and the
 * region's residency guard refuses a token of another jurisdiction, so a forged token
 * gains nothing.
 */
export function residencyRouterCode(directory: JurisdictionDirectory): string {
  const hostsByPoolRegion = Object.fromEntries(
    Object.entries(directory.byPrimaryRegion).map(([region, jurisdiction]) => [
      region,
      directory.apiHosts[jurisdiction],
    ]),
  );
  return `import cf from 'cloudfront';

var HOSTS_BY_POOL_REGION = ${JSON.stringify(hostsByPoolRegion)};
var COGNITO_ISSUER = /^https:\\/\\/cognito-idp\\.([a-z0-9-]+)\\.amazonaws\\.com\\/[\\w-]+$/;

function homeApiHost(authorization) {
  var token = /^Bearer\\s+[\\w-]+\\.([\\w-]+)\\.[\\w-]*$/i.exec(authorization || '');
  if (!token) return undefined;
  var payload;
  try {
    var base64 = token[1].replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) base64 += '=';
    payload = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (e) {
    return undefined;
  }
  var issuer = COGNITO_ISSUER.exec((payload && payload.iss) || '');
  return issuer ? HOSTS_BY_POOL_REGION[issuer[1]] : undefined;
}

function handler(event) {
  var request = event.request;
  var authorization = request.headers.authorization;
  var host = homeApiHost(authorization && authorization.value);
  if (host) cf.updateRequestOrigin({ domainName: host });
  return request;
}
`;
}
