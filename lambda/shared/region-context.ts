/** Which region and jurisdiction this copy of the code serves, read once per cold start. */
export interface RegionContext {
  readonly region: string;
  readonly jurisdiction: string;
}

export function regionContextFrom(env: NodeJS.ProcessEnv): RegionContext {
  const region = env.AWS_REGION;
  const jurisdiction = env.JURISDICTION;
  if (!region) throw new Error('AWS_REGION is not set');
  if (!jurisdiction) throw new Error('JURISDICTION is not set');
  return { region, jurisdiction };
}
