import { type JurisdictionDirectory, jurisdictionDirectoryFrom } from '../residency/jurisdiction-guard';
import { type FunctionEnvironment, optionalEnv, requiredEnv } from './environment';

/** Which region and jurisdiction this copy of the code serves, read once per cold start. */
export interface RegionContext {
  readonly region: string;
  readonly jurisdiction: string;
  /** Where the jurisdiction's Aurora writer is; strong requests are served there. */
  readonly primaryRegion: string;
  /**
   * Every jurisdiction's pool region and API host, to tell a user of another jurisdiction
   * where to go.
   * @default none known: foreign users are refused without a pointer
   */
  readonly directory?: JurisdictionDirectory;
}

export function regionContextFrom(env: FunctionEnvironment): RegionContext {
  const region = requiredEnv(env, 'AWS_REGION');
  const jurisdiction = requiredEnv(env, 'JURISDICTION');
  return {
    region,
    jurisdiction,
    primaryRegion: optionalEnv(env, 'PRIMARY_REGION') ?? region,
    directory: jurisdictionDirectoryFrom(env),
  };
}
