/**
 * AWS commercial regions this blueprint knows, with the one fact about each that the
 * topology rules need: whether the region lies inside the European Union.
 *
 * `eu-west-2` (London) and `eu-central-2` (Zurich) carry an `eu-` prefix but are not in
 * the EU, so an EU-pinned jurisdiction must not hold them.
 */
export const AWS_REGIONS = {
  'us-east-1': { location: 'N. Virginia', inEu: false },
  'us-east-2': { location: 'Ohio', inEu: false },
  'us-west-1': { location: 'N. California', inEu: false },
  'us-west-2': { location: 'Oregon', inEu: false },
  'ca-central-1': { location: 'Canada (Central)', inEu: false },
  'ca-west-1': { location: 'Calgary', inEu: false },
  'mx-central-1': { location: 'Mexico (Central)', inEu: false },
  'sa-east-1': { location: 'São Paulo', inEu: false },
  'eu-west-1': { location: 'Ireland', inEu: true },
  'eu-west-2': { location: 'London', inEu: false },
  'eu-west-3': { location: 'Paris', inEu: true },
  'eu-central-1': { location: 'Frankfurt', inEu: true },
  'eu-central-2': { location: 'Zurich', inEu: false },
  'eu-north-1': { location: 'Stockholm', inEu: true },
  'eu-south-1': { location: 'Milan', inEu: true },
  'eu-south-2': { location: 'Spain', inEu: true },
  'il-central-1': { location: 'Tel Aviv', inEu: false },
  'me-south-1': { location: 'Bahrain', inEu: false },
  'me-central-1': { location: 'UAE', inEu: false },
  'af-south-1': { location: 'Cape Town', inEu: false },
  'ap-east-1': { location: 'Hong Kong', inEu: false },
  'ap-east-2': { location: 'Taipei', inEu: false },
  'ap-south-1': { location: 'Mumbai', inEu: false },
  'ap-south-2': { location: 'Hyderabad', inEu: false },
  'ap-northeast-1': { location: 'Tokyo', inEu: false },
  'ap-northeast-2': { location: 'Seoul', inEu: false },
  'ap-northeast-3': { location: 'Osaka', inEu: false },
  'ap-southeast-1': { location: 'Singapore', inEu: false },
  'ap-southeast-2': { location: 'Sydney', inEu: false },
  'ap-southeast-3': { location: 'Jakarta', inEu: false },
  'ap-southeast-4': { location: 'Melbourne', inEu: false },
  'ap-southeast-5': { location: 'Malaysia', inEu: false },
  'ap-southeast-6': { location: 'New Zealand', inEu: false },
  'ap-southeast-7': { location: 'Thailand', inEu: false },
} as const satisfies Record<string, { location: string; inEu: boolean }>;

export type AwsRegion = keyof typeof AWS_REGIONS;

export function isKnownRegion(region: string): region is AwsRegion {
  return Object.hasOwn(AWS_REGIONS, region);
}

export function isEuRegion(region: string): boolean {
  return isKnownRegion(region) && AWS_REGIONS[region].inEu;
}

export const EU_REGIONS: readonly AwsRegion[] = (Object.keys(AWS_REGIONS) as AwsRegion[]).filter(
  (region) => AWS_REGIONS[region].inEu,
);
