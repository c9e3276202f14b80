import type { JurisdictionDirectory } from '../../lambda/residency/jurisdiction-guard';
import type { Topology } from './topology';

/**
 * What every region's functions know about all jurisdictions: the region of each user
 * pool (a token's issuer names it) and each jurisdiction's API host. Static config from the
 * topology, so no stack of one jurisdiction references a stack of another.
 */
export function jurisdictionDirectory(topology: Topology): JurisdictionDirectory {
  return {
    byPrimaryRegion: Object.fromEntries(topology.jurisdictions.map((j) => [j.primaryRegion, j.name])),
    apiHosts: Object.fromEntries(topology.jurisdictions.map((j) => [j.name, topology.jurisdictionApiHostname(j)])),
  };
}
