import { FLOW_NAMES, type FlowName } from './flows';
import { LAG_POLL_MS, LAG_PROBE_PAUSE_MS } from './lag-probes';
import { CLIENT_LOCATIONS } from './models';
import { percentileIntervalRanks } from './percentile-interval';
import type { BenchResult, CellResult, Interval, ModelResult, ReplicationLag } from './results';

/** The source card's complaint: Asian shoppers wait this long per page on one US region. */
export const SOURCE_CARD_BAND_MS = { low: 400, high: 700 } as const;
/** Active-active's promise: a product page this fast from every continent, at p95. */
export const ACTIVE_ACTIVE_PAGE_P95_MS = 100;
/** Two runs agree when every compared figure is within this share of the earlier one. */
export const RERUN_TOLERANCE = 0.1;

const CONTINENT: Readonly<Record<string, string>> = {
  'us-east-1': 'North America',
  'eu-west-1': 'Europe',
  'ap-southeast-1': 'Asia',
};

export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

function cell(model: ModelResult | undefined, location: string, flow: FlowName): CellResult | undefined {
  return model?.cells.find((c) => c.location === location && c.flow === flow);
}

/** The issue's acceptance figures, checked against a run. */
export function targets(result: BenchResult): Target[] {
  const byName = (name: string) => result.models.find((m) => m.model === name);
  const single = byName('single-region');
  const activeActive = byName('active-active');
  const list: Target[] = [];
  const asiaPage = cell(single, 'ap-southeast-1', 'product page');
  if (asiaPage) {
    const { p50, p95 } = asiaPage.latency;
    // The card reports what Asian shoppers typically wait: the median page, not its tail.
    list.push({
      target: `single-region: Asia product page (p50) in the source card's ${SOURCE_CARD_BAND_MS.low}-${SOURCE_CARD_BAND_MS.high} ms band`,
      measured: `p50 ${p50} ms (p95 ${p95} ms)`,
      met: p50 >= SOURCE_CARD_BAND_MS.low && p50 <= SOURCE_CARD_BAND_MS.high,
    });
  }
  if (activeActive) {
    for (const location of CLIENT_LOCATIONS) {
      const page = cell(activeActive, location, 'product page');
      if (!page) continue;
      list.push({
        target: `active-active: product page p95 under ${ACTIVE_ACTIVE_PAGE_P95_MS} ms from ${CONTINENT[location]}`,
        measured: `p95 ${page.latency.p95} ms`,
        met: page.latency.p95 < ACTIVE_ACTIVE_PAGE_P95_MS,
      });
    }
    for (const flow of ['like', 'add to cart', 'profile update', 'checkout'] as const) {
      const limit = flow === 'checkout' ? 1 : 0;
      const most = Math.max(...CLIENT_LOCATIONS.map((l) => cell(activeActive, l, flow)?.tripsPerRequestMax ?? 0));
      list.push({
        target: `active-active: ${flow} with at most ${limit} cross-region round trip${limit === 1 ? '' : 's'} per request`,
        measured: `at most ${most}`,
        met: most <= limit,
      });
    }
  }
  for (const model of [...result.models, result.overhead]) {
    const oversold = model.checkout.reduce((sum, a) => sum + a.oversoldUnits, 0);
    const duplicates = model.checkout.reduce(
      (sum, a) => sum + a.duplicateCharges + a.chargesWithoutOrder + a.ordersWithoutCharge,
      0,
    );
    const mismatches = model.checkout.reduce((sum, a) => sum + a.retryMismatches.length + Math.abs(a.stockMismatch), 0);
    list.push({
      target: `${model.label}: checkout oversold units, duplicate charges, retry or stock mismatches all 0`,
      measured: `${oversold} oversold, ${duplicates} duplicate or missing charges, ${mismatches} mismatches`,
      met: oversold === 0 && duplicates === 0 && mismatches === 0,
    });
  }
  const errors = [...result.models, result.overhead].flatMap((m) => m.cells).reduce((sum, c) => sum + c.errors, 0);
  list.push({ target: 'no errors in any flow', measured: `${errors} errors`, met: errors === 0 });
  return list;
}

/** Figures below this are mostly the local engines' own time, not the modelled network. */
export const LOCAL_SCALE_MS = 100;

export interface RerunGroup {
  readonly compared: number;
  readonly largestDifference: number;
  readonly outsideTolerance: number;
  /** Of those, the ones whose 95 % intervals do not even overlap: a change chance does not explain. */
  readonly beyondChance: number;
}

export interface ComparedFigure {
  readonly figure: string;
  readonly before: number;
  readonly after: number;
  readonly beforeInterval: Interval;
  readonly afterInterval: Interval;
  /** The two runs' 95 % intervals overlap: the difference is within what sampling alone gives. */
  readonly withinChance: boolean;
}

export interface RerunComparison {
  /** Figures compared: p50 and p95 of every cell present in both runs. */
  readonly compared: number;
  readonly largestDifference: number;
  /** Figures more than the tolerance apart, worst first. */
  readonly outside: readonly ComparedFigure[];
  /** The same, for figures of at least 100 ms in the earlier run (the network dominates) and under it. */
  readonly network: RerunGroup;
  readonly local: RerunGroup;
}

/** p50 and p95 of every model × location × flow, this run against an earlier one. */
export function compareRuns(before: BenchResult, after: BenchResult): RerunComparison {
  const figures: (ComparedFigure & { difference: number })[] = [];
  for (const model of [...after.models, after.overhead]) {
    const earlier = [...before.models, before.overhead].find((m) => m.label === model.label);
    for (const now of model.cells) {
      const then = cell(earlier, now.location, now.flow);
      if (!then) continue;
      for (const p of ['p50', 'p95'] as const) {
        const difference = Math.abs(now.latency[p] - then.latency[p]) / Math.max(then.latency[p], 1e-9);
        const beforeInterval = then.latency[`${p}Interval`];
        const afterInterval = now.latency[`${p}Interval`];
        figures.push({
          figure: `${model.label} / ${now.location} / ${now.flow} / ${p}`,
          before: then.latency[p],
          after: now.latency[p],
          beforeInterval,
          afterInterval,
          withinChance: overlap(beforeInterval, afterInterval),
          difference,
        });
      }
    }
  }
  figures.sort((a, b) => b.difference - a.difference);
  const group = (members: typeof figures): RerunGroup => ({
    compared: members.length,
    largestDifference: members[0]?.difference ?? 0,
    outsideTolerance: members.filter((f) => f.difference > RERUN_TOLERANCE).length,
    beyondChance: members.filter((f) => f.difference > RERUN_TOLERANCE && !f.withinChance).length,
  });
  return {
    network: group(figures.filter((f) => f.before >= LOCAL_SCALE_MS)),
    local: group(figures.filter((f) => f.before < LOCAL_SCALE_MS)),
    compared: figures.length,
    largestDifference: figures[0]?.difference ?? 0,
    outside: figures.filter((f) => f.difference > RERUN_TOLERANCE).map(({ difference: _, ...figure }) => figure),
  };
}

/** Why a tail figure moves between runs, worked out for this run's smallest sample. */
function tailNote(result: BenchResult): string[] {
  const n = Math.min(...[...result.models, result.overhead].flatMap((m) => m.cells.map((c) => c.latency.count)));
  if (!(n > 0) || !Number.isFinite(n)) return [];
  const { lower, upper } = percentileIntervalRanks(n, 0.95);
  const above = upper > n ? 'beyond the largest' : `the ${ordinal(upper)}`;
  return [
    `A p95 of ${n} samples is their ${ordinal(Math.round(0.95 * n))} smallest, and its 95 % interval runs from the ${ordinal(lower)} to ${above}:`,
    "a re-run's tail figure moves that much with nothing changed; more samples (`--duration-s`) narrow it.",
  ];
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** Whether two intervals share a value; a null upper end is unbounded. */
function overlap([lowA, highA]: Interval, [lowB, highB]: Interval): boolean {
  return lowA <= (highB ?? Number.POSITIVE_INFINITY) && lowB <= (highA ?? Number.POSITIVE_INFINITY);
}

/** An interval as the tables print it. */
function formatInterval([low, high]: Interval): string {
  return high === null ? `${low} or more` : `${low}-${high}`;
}

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;

/** A Markdown table with columns padded, as the repo's formatter writes them. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function flowTable(models: readonly ModelResult[], flow: FlowName): string {
  const rows = models.flatMap((model) =>
    CLIENT_LOCATIONS.map((location) => {
      const c = cell(model, location, flow);
      if (!c) return [model.label, location, '-', '-', '-', '-', '-', '-', '-'];
      return [
        model.label,
        `${CONTINENT[location]} (${location})`,
        String(c.latency.p50),
        String(c.latency.p95),
        formatInterval(c.latency.p95Interval),
        String(c.latency.p99),
        String(c.errors),
        `${c.latency.count} / ${c.requests}`,
        `${c.tripsPerRequestMax} / ${c.tripsPerRequestMean}`,
      ];
    }),
  );
  return markdownTable(
    [
      'model',
      'client in',
      'p50 ms',
      'p95 ms',
      'p95 95 % interval',
      'p99 ms',
      'errors',
      'flows / requests',
      'cross-region RT per request (max / mean)',
    ],
    rows,
  );
}

/** The figures of one pair's lag probes: how many, p50, p95, max, how many unseen, failed writes. */
function lagFigures(r: ReplicationLag): string[] {
  return [r.lag.count, r.lag.p50, r.lag.p95, r.lag.max, r.unseen, r.failedWrites].map(String);
}

const LAG_HEADERS = ['probes', 'p50 ms', 'p95 ms', 'max ms', 'not seen in 10 s', 'failed writes'];

function replicationTable(models: readonly ModelResult[]): string {
  const rows = models.flatMap((model) =>
    model.replication.length === 0
      ? [[model.label, '(one region: nothing to replicate to)', ...LAG_HEADERS.map(() => '-')]]
      : model.replication.map((r) => [model.label, `${r.jurisdiction}: ${r.from} → ${r.to}`, ...lagFigures(r)]),
  );
  return markdownTable(['model', 'write → read', ...LAG_HEADERS], rows);
}

function stockReplicationTable(models: readonly ModelResult[]): string {
  const rows = models.flatMap((model) =>
    model.stockReplication.length === 0
      ? [[model.label, '(one region: no replica)', '-', ...LAG_HEADERS.map(() => '-')]]
      : model.stockReplication.map((r) => [
          model.label,
          `${r.jurisdiction}: ${r.from} → ${r.to}`,
          String(r.injectedLagMs),
          ...lagFigures(r),
        ]),
  );
  return markdownTable(['model', 'writer → replica', 'replica lag set ms', ...LAG_HEADERS], rows);
}

function checkoutTable(models: readonly ModelResult[]): string {
  const rows = models.flatMap((model) =>
    model.checkout.map((a) => [
      model.label,
      a.jurisdiction,
      String(a.attempts),
      String(a.initialStock),
      String(a.confirmedUnits),
      String(a.refusedSoldOut),
      String(a.finalStock),
      String(a.oversoldUnits),
      String(a.duplicateCharges),
      String(a.chargesWithoutOrder),
      String(a.ordersWithoutCharge),
      `${a.retriesSent} / ${a.retryMismatches.length}`,
    ]),
  );
  return markdownTable(
    [
      'model',
      'jurisdiction',
      'checkouts',
      'stock',
      'confirmed',
      'refused: sold out',
      'stock left',
      'oversold units',
      'duplicate charges',
      'charges without order',
      'orders without charge',
      'retries / answered differently',
    ],
    rows,
  );
}

export function renderMarkdown(result: BenchResult, comparison?: RerunComparison): string {
  const { settings } = result;
  const rates = Object.entries(settings.ratesPerLocation)
    .map(([flow, rate]) => `${flow} ${rate}/s`)
    .join(', ');
  const met = targets(result);
  const out: string[] = [
    '# Latency benchmark: every deployment model, per continent and flow',
    '',
    `Written by \`npm run bench\` (${result.finishedAt}, ${result.machine.cpus} CPUs, Node.js ${result.machine.node}); do not edit by hand.`,
    'Figures are from the local platform (`npm run local`): every region, the edge, PostgreSQL, DynamoDB',
    '(dynalite) and Valkey on loopback, with every call between regions delayed by the published',
    `inter-region round trip (\`local/inter-region-rtt.json\`${settings.distanceScale === 1 ? '' : `, scaled ×${settings.distanceScale}`}) and counted.`,
    'They model the network, not AWS service times: add what Lambda, API Gateway and the stores take in',
    'your account (measure it with `scripts/measure-functions.ts` and CloudWatch).',
    '',
    `Each model ran ${settings.warmupS} s of warm-up (discarded), then ${settings.durationS} s measured, at a constant arrival rate`,
    `per client location (open loop): ${rates}. Latency is from each flow's intended start to its last answer,`,
    'recorded in an HdrHistogram (3 significant figures) for every flow that answered as the API promises (errors',
    'are counted apart); a product page is its three calls in sequence (product, likes, cart), and checkout',
    'includes the orders refused once stock ran out. Shoppers are signed in, so the edge routes each to its home jurisdiction',
    '(EU shoppers to the EU regions, except in single-region, which has no residency). Cross-region round trips',
    'are counted by the runtime (`x-cross-region-round-trips`: edge to region, region to primary).',
    '',
    '![p95 latency per flow, model and client location](benchmark.svg)',
    '',
    '## Models',
    '',
    markdownTable(
      ['model', 'what it is', 'regions', 'home jurisdiction of shoppers in'],
      [...result.models, result.overhead].map((m) => [
        m.label,
        m.description,
        m.regions.map((r) => `${r.jurisdiction}: ${r.regions.join(' + ')}`).join('; '),
        Object.entries(m.homes)
          .map(([location, home]) => `${location} → ${home}`)
          .join(', '),
      ]),
    ),
    '',
    '## Targets',
    '',
    markdownTable(
      ['target', 'measured', 'met'],
      met.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
    ),
    '',
  ];
  for (const flow of FLOW_NAMES) {
    out.push(`## ${flow[0]?.toUpperCase()}${flow.slice(1)}`, '', flowTable(result.models, flow), '');
  }
  out.push(
    '## Replication lag observed',
    '',
    `A profile written at one region's API, then read at the other's every ${LAG_POLL_MS} ms until it shows, then a`,
    `${LAG_PROBE_PAUSE_MS} ms pause; every pair at once, for ${settings.replicationPhaseS} s after the measured window, under the same load`,
    "(during the window the probe's reads would add to the load whose latency is measured).",
    `The local replicator delivers after ${settings.replicationDelayMs} ms and polls every 100 ms,`,
    'standing in for DynamoDB global tables (typically under a second; no SLA).',
    '',
    replicationTable(result.models),
    '',
    `Stock, in the strong store: an admin's stock change at the primary's API, then the secondary's read-only`,
    `replica read every ${LAG_POLL_MS} ms until it shows, timed from when the change is sent (the stock is committed`,
    'first, before the catalog and cache writes, so the answer comes later than the commit), at the same time as',
    'the profile probes. Each replica is a PostgreSQL hot standby streaming from the primary and applying each',
    "commit the set lag later (the one-way distance, standing in for an Aurora global database's typical",
    'under-a-second lag). It is read directly, not through a product page: pages are cached for the cache TTL,',
    "which would hide the replica's lag behind the cache's. Orders never read a replica: they go to the writer.",
    'What is seen above the set lag is the request before the commit, the poll interval and the load.',
    '',
    stockReplicationTable(result.models),
    '',
    '## Checkout: oversold units and duplicate charges',
    '',
    'The checkout product has stock for three quarters of the orders the run sends, so the rest must be',
    'refused; every fourth order is sent again with the same Idempotency-Key (a client retry), which must',
    "answer as the first did. Stock is read from the strong store and charges from the card processor's record.",
    '',
    checkoutTable([...result.models, result.overhead]),
    '',
    `## Benchmark overhead: ${result.overhead.label}`,
    '',
    'The same load on active-active with no injected delay between regions and none in replication: what the',
    "harness, HTTP on loopback and the local engines add to every figure above. Each model's own figure of it",
    'is its North America rows, which cross nothing; the injected delays are waited to a fraction of a millisecond.',
    '',
  );
  for (const flow of FLOW_NAMES) out.push(`### ${flow}`, '', flowTable([result.overhead], flow), '');
  if (comparison) {
    out.push(
      '## Against the previous run',
      '',
      `${comparison.compared} figures (p50 and p95 of every row) compared with the run before this one: the largest`,
      `difference is ${percent(comparison.largestDifference)}; ${comparison.outside.length} differ by more than ${percent(RERUN_TOLERANCE)}, of which`,
      `${comparison.outside.filter((o) => !o.withinChance).length} by more than chance explains (the two runs' 95 % intervals do not overlap).`,
      ...tailNote(result),
      '',
      markdownTable(
        [
          'figures',
          'compared',
          'largest difference',
          `more than ${percent(RERUN_TOLERANCE)} apart`,
          'of them, beyond chance',
        ],
        (
          [
            [`${LOCAL_SCALE_MS} ms or more (the modelled network dominates)`, comparison.network],
            [`under ${LOCAL_SCALE_MS} ms (the local engines' own time dominates)`, comparison.local],
          ] as const
        ).map(([label, group]) => [
          label,
          String(group.compared),
          percent(group.largestDifference),
          String(group.outsideTolerance),
          String(group.beyondChance),
        ]),
      ),
      '',
    );
    if (comparison.outside.length > 0) {
      out.push(
        markdownTable(
          ['figure', 'before ms', 'now ms', 'before: 95 % interval', 'now: 95 % interval', 'within chance'],
          comparison.outside.map((o) => [
            o.figure,
            String(o.before),
            String(o.after),
            formatInterval(o.beforeInterval),
            formatInterval(o.afterInterval),
            o.withinChance ? 'yes' : '**no**',
          ]),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}

const MODEL_COLOURS = ['#9e9e9e', '#f28e2b', '#4e79a7'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A 1-2-5 step at or above `value`, for an axis top. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return ([1, 2, 5, 10].map((m) => m * magnitude).find((v) => v >= value) as number) ?? value;
}

/**
 * p95 per flow (one panel each), client location (groups) and model (bars), as an SVG.
 * Written by hand: a few rectangles and labels need no charting library, and the file
 * stays byte-for-byte reproducible from the figures.
 */
export function renderSvg(result: BenchResult): string {
  const panelWidth = 230;
  const panelHeight = 300;
  const top = 70;
  const left = 50;
  const width = left + FLOW_NAMES.length * panelWidth;
  const height = top + panelHeight + 60;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    '<title>p95 latency per flow, client location and deployment model, from npm run bench</title>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">p95 latency (ms) per flow, client location and deployment model</text>`,
  ];
  result.models.forEach((model, m) => {
    const x = left + m * 230;
    parts.push(
      `<rect x="${x}" y="36" width="12" height="12" fill="${MODEL_COLOURS[m % MODEL_COLOURS.length]}"/>`,
      `<text x="${x + 18}" y="46">${escapeXml(model.label)}</text>`,
    );
  });
  FLOW_NAMES.forEach((flow, f) => {
    const x0 = left + f * panelWidth;
    const values = result.models.flatMap((m) => CLIENT_LOCATIONS.map((l) => cell(m, l, flow)?.latency.p95 ?? 0));
    const axisTop = niceCeiling(Math.max(...values, flow === 'product page' ? SOURCE_CARD_BAND_MS.high : 0));
    const y = (v: number) => top + panelHeight - (v / axisTop) * panelHeight;
    parts.push(
      `<text x="${x0 + 10}" y="${top - 6}" font-weight="bold">${escapeXml(flow)}</text>`,
      `<line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + panelHeight}" stroke="#333"/>`,
      `<line x1="${x0}" y1="${top + panelHeight}" x2="${x0 + panelWidth - 20}" y2="${top + panelHeight}" stroke="#333"/>`,
      `<text x="${x0 - 4}" y="${top + 4}" text-anchor="end">${axisTop}</text>`,
      `<text x="${x0 - 4}" y="${top + panelHeight}" text-anchor="end">0</text>`,
    );
    if (flow === 'product page') {
      parts.push(
        `<rect x="${x0}" y="${y(SOURCE_CARD_BAND_MS.high)}" width="${panelWidth - 20}" height="${y(SOURCE_CARD_BAND_MS.low) - y(SOURCE_CARD_BAND_MS.high)}" fill="#e15759" fill-opacity="0.08"/>`,
        `<text x="${x0 + 4}" y="${y(SOURCE_CARD_BAND_MS.high) + 12}" fill="#e15759">source card: 400-700 ms</text>`,
        `<line x1="${x0}" y1="${y(ACTIVE_ACTIVE_PAGE_P95_MS)}" x2="${x0 + panelWidth - 20}" y2="${y(ACTIVE_ACTIVE_PAGE_P95_MS)}" stroke="#59a14f" stroke-dasharray="4 3"/>`,
        `<text x="${x0 + 4}" y="${y(ACTIVE_ACTIVE_PAGE_P95_MS) - 4}" fill="#59a14f">100 ms</text>`,
      );
    }
    const groupWidth = (panelWidth - 20) / CLIENT_LOCATIONS.length;
    const barWidth = (groupWidth - 12) / Math.max(result.models.length, 1);
    CLIENT_LOCATIONS.forEach((location, g) => {
      const gx = x0 + g * groupWidth + 6;
      result.models.forEach((model, m) => {
        const value = cell(model, location, flow)?.latency.p95 ?? 0;
        const bx = gx + m * barWidth;
        parts.push(
          `<rect x="${bx.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(top + panelHeight - y(value)).toFixed(1)}" fill="${MODEL_COLOURS[m % MODEL_COLOURS.length]}"><title>${escapeXml(`${model.label}, ${location}, ${flow}: p95 ${value} ms`)}</title></rect>`,
          `<text x="${(bx + (barWidth - 2) / 2).toFixed(1)}" y="${(y(value) - 3).toFixed(1)}" text-anchor="middle" font-size="8">${Math.round(value)}</text>`,
        );
      });
      parts.push(
        `<text x="${(gx + (groupWidth - 12) / 2).toFixed(1)}" y="${top + panelHeight + 16}" text-anchor="middle">${escapeXml(CONTINENT[location] ?? location)}</text>`,
      );
    });
  });
  parts.push(
    `<text x="${left}" y="${height - 12}" fill="#555">Local platform with published inter-region round trips; written by npm run bench (${escapeXml(result.finishedAt)}).</text>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}
