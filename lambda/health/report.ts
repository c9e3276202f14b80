import type { RegionContext } from '../shared/region-context';

export interface HealthReport {
  readonly region: string;
  readonly jurisdiction: string;
  readonly status: 'serving';
  readonly checkedAt: string;
}

/** The health document; store probes join it when the application's adapters exist. */
export function healthReport(context: RegionContext, now: Date): HealthReport {
  return {
    region: context.region,
    jurisdiction: context.jurisdiction,
    status: 'serving',
    checkedAt: now.toISOString(),
  };
}
