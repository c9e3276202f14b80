import type { LocalPlatform } from '../platform';
import { clock, sleep } from './clock';
import { control } from './http';

/** When the edge's health checks marked the region unhealthy after the down, and healthy after the return. */
export interface EdgeMarks {
  unhealthyAt?: number;
  healthyAt?: number;
  /** When the edge's writer check of the region failed after the down (only a primary is writer-checked). */
  writerUnhealthyAt?: number;
}

export interface EdgeWatch {
  readonly marks: EdgeMarks;
  /** Ends the polling, once its call in flight is answered. */
  stop(): Promise<void>;
}

/**
 * Polls the edge's view of `region` through the controls every 50 ms until stopped or the
 * wall cap; `outage` gives when the region went down and came back (infinite until then).
 */
export function watchEdgeHealth(
  platform: LocalPlatform,
  region: string,
  outage: { readonly downAt: number; readonly upAt: number },
  timeLeft: () => number,
): EdgeWatch {
  const marks: EdgeMarks = { unhealthyAt: undefined, healthyAt: undefined };
  let watching = true;
  const polling = (async () => {
    while (watching && timeLeft() > 0) {
      const status = await control(platform, 'GET', '/').catch(() => undefined);
      const healthy = status?.regions?.[region]?.healthyAtEdge;
      const writerHealthy = status?.regions?.[region]?.writerHealthyAtEdge;
      const now = clock();
      if (healthy === false && marks.unhealthyAt === undefined && now >= outage.downAt) marks.unhealthyAt = now;
      if (writerHealthy === false && marks.writerUnhealthyAt === undefined && now >= outage.downAt) {
        marks.writerUnhealthyAt = now;
      }
      if (healthy === true && marks.unhealthyAt !== undefined && marks.healthyAt === undefined && now >= outage.upAt) {
        marks.healthyAt = now;
      }
      await sleep(50);
    }
  })();
  return {
    marks,
    stop: async () => {
      watching = false;
      await polling;
    },
  };
}
