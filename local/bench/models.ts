import { resolveTopology, type Topology } from '../../lib/config/topology';
import type { Distance } from '../distance';

/** Where the benchmark's shoppers are: North America, Europe and Asia. */
export const CLIENT_LOCATIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;
export type ClientLocation = (typeof CLIENT_LOCATIONS)[number];

export const MODEL_NAMES = ['single-region', 'active-passive', 'active-active'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface BenchModel {
  readonly name: ModelName;
  readonly description: string;
  /** Topology overrides over the defaults, as `npm run local -- --config` takes them. */
  readonly overrides: Record<string, unknown>;
}

/**
 * The three deployment models measured. Single-region is today's platform, the baseline
 * the design starts from: one jurisdiction, one region (us-east-1), every shopper
 * (EU ones too: it has no residency) served from there. The other two are the default
 * topology with its `deploymentModel` switch set.
 */
export const BENCH_MODELS: Readonly<Record<ModelName, BenchModel>> = {
  'single-region': {
    name: 'single-region',
    description: "today's platform: everything in us-east-1",
    overrides: {
      deploymentModel: 'active-passive',
      jurisdictions: [{ name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1'] }],
    },
  },
  'active-passive': {
    name: 'active-passive',
    description: 'default topology; every request to its jurisdiction primary',
    overrides: { deploymentModel: 'active-passive' },
  },
  'active-active': {
    name: 'active-active',
    description: 'default topology; nearest region of the jurisdiction, strong writes to the primary',
    overrides: { deploymentModel: 'active-active' },
  },
};

export function topologyOf(model: BenchModel): Topology {
  return resolveTopology(model.overrides, `benchmark model ${model.name}`);
}

/**
 * A shopper's home jurisdiction: the one whose region is nearest to where they are, so an
 * EU shopper is an EU-home user wherever the topology has an EU jurisdiction.
 */
export function homeJurisdiction(topology: Topology, location: string, distance: Distance): string {
  const [nearest] = distance.byDistanceFrom(location, topology.servingRegions);
  if (nearest === undefined) throw new Error(`the topology serves no region to be near ${location}`);
  return topology.jurisdictionOf(nearest).name;
}
