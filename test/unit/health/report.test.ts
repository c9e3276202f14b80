import { healthReport, type StrongStoreCheck, WRITER_HEARTBEAT_STALE_MS } from '../../../lambda/health/report';

const ok = { status: 'ok' as const, latencyMs: 1 };
const now = new Date('2026-12-01T10:00:00Z');
const context = (region: string) => ({
  region,
  jurisdiction: 'eu',
  primaryRegion: 'eu-west-1',
  directory: { byPrimaryRegion: { 'eu-west-1': 'eu' }, apiHosts: {} },
});
const modeOf = (region: string, strongStore: StrongStoreCheck) =>
  healthReport(context(region), { eventualStore: ok, cache: ok, strongStore }, now).report.mode;

test.each([
  ['the primary holding the writer', 'eu-west-1', { ...ok, writable: true, writerHeartbeatAgeMs: 0 }, 'read-write'],
  [
    'the primary after the writer moved away',
    'eu-west-1',
    { ...ok, writable: false, writerHeartbeatAgeMs: 800 },
    'read-only',
  ],
  [
    'a secondary whose replica hears the writer',
    'eu-central-1',
    { ...ok, writable: false, writerHeartbeatAgeMs: 800 },
    'read-write',
  ],
  [
    'a secondary whose replica has not heard the writer for too long (its region is down)',
    'eu-central-1',
    { ...ok, writable: false, writerHeartbeatAgeMs: WRITER_HEARTBEAT_STALE_MS + 1 },
    'read-only',
  ],
  ['a secondary promoted to writer', 'eu-central-1', { ...ok, writable: true, writerHeartbeatAgeMs: 0 }, 'read-write'],
  [
    'a secondary whose store does not answer',
    'eu-central-1',
    { status: 'unavailable' as const, latencyMs: 1000 },
    'read-only',
  ],
])('%s: %s is %s', (_what, region, strongStore, mode) => {
  expect(modeOf(region, strongStore)).toBe(mode);
});
