import { performance, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from '../../lib/config/topology';
import { Distance, type DistanceOptions } from '../distance';
import { required } from '../required';
import {
  type Answer,
  FLOW_NAMES,
  FLOWS,
  type FlowInput,
  type FlowName,
  type FlowOutcome,
  isOrderAnswer,
  placeOrder,
  request,
  type Shopper,
  ShopperClient,
} from './flows';
import { probeEventualReplication, probeStockReplication } from './lag-probes';
import { newHistogram, record, summarize } from './latency-histogram';
import { type BenchModel, CLIENT_LOCATIONS, homeJurisdiction, topologyOf } from './models';
import { openLoop } from './open-loop';
import { control, token } from './platform-controls';
import { PlatformProcess, type PlatformUrls } from './platform-process';
import type { CellResult, CheckoutAudit, ModelResult } from './results';

export interface ModelRunOptions {
  /** Names this run in the report, e.g. "active-active" or "active-active, no injected delay". */
  readonly label: string;
  readonly durationMs: number;
  /** Load at the same rates before measuring, discarded: connections, caches, JIT warm. */
  readonly warmupMs: number;
  /**
   * Replication is observed after the measured window, under the same load, for this long:
   * the probe reads the other region every 25 ms, which during the window would double the
   * platform's requests and show in the latency figures.
   * @default 15000
   */
  readonly replicationPhaseMs?: number;
  /** Flow starts per second from each client location. */
  readonly rates: Readonly<Record<FlowName, number>>;
  readonly distance: DistanceOptions;
  readonly replicationDelayMs: number;
  /**
   * How far each secondary's strong-store replica lags its primary.
   * @default the one-way distance between the two regions
   */
  readonly replicaLagMs?: number;
  readonly log: (line: string) => void;
}

type Phase = 'warmup' | 'measure' | 'replication';

const SHOPPERS_PER_LOCATION = 10;
const CATALOG = ['BENCH-1', 'BENCH-2', 'BENCH-3', 'BENCH-4'];
const CHECKOUT_SKU = 'BENCH-LAST';
/** Checkout's stock, as a share of the orders the run will attempt: the rest must be refused. */
const CHECKOUT_STOCK_SHARE = 0.75;
/** Every n-th checkout is sent twice (a client retry after a lost answer). */
const RETRY_EVERY = 4;
export const DEFAULT_REPLICATION_PHASE_MS = 15_000;

interface Cell {
  readonly location: string;
  readonly flow: FlowName;
  readonly latency: RecordableHistogram;
  errors: number;
  readonly errorSamples: string[];
  requests: number;
  trips: number;
  maxTrips: number;
}

/**
 * One deployment model, start to end: its local platform in a child process, seeded;
 * warm-up; then every flow from every client location at its constant rate while
 * replication is probed; then the checkout audit (stock and the card processor's
 * captures); then everything stopped.
 */
export async function runModel(model: BenchModel, options: ModelRunOptions): Promise<ModelResult> {
  const replicationPhaseMs = checkRunOptions(options);
  const topology = topologyOf(model);
  const distance = Distance.fromReferenceTable(options.distance);
  const platform = await PlatformProcess.start({
    label: options.label,
    topology: model.overrides,
    replicationDelayMs: options.replicationDelayMs,
    ...(options.replicaLagMs !== undefined ? { replicaLagMs: options.replicaLagMs } : {}),
    distance: options.distance,
  });
  try {
    const { urls } = platform;
    const homes = Object.fromEntries(CLIENT_LOCATIONS.map((l) => [l, homeJurisdiction(topology, l, distance)]));
    const initialStock = checkoutStock(topology, homes, options);
    options.log(`${options.label}: seeding the catalog and ${SHOPPERS_PER_LOCATION} shoppers per location`);
    await seed(urls, topology.jurisdictions, initialStock);
    const run: FlowRun = {
      options,
      client: new ShopperClient(urls.edgeUrl),
      homes,
      shoppers: await signInShoppers(urls, homes),
      ledgers: new Map(topology.jurisdictions.map((j) => [j.name, newLedger()])),
      retries: [],
    };

    options.log(`${options.label}: warming up for ${options.warmupMs / 1000} s`);
    await driveFlows(run, 'warmup', options.warmupMs);
    const cells = newCells();
    options.log(`${options.label}: measuring for ${options.durationMs / 1000} s`);
    await driveFlows(run, 'measure', options.durationMs, cells);
    options.log(`${options.label}: observing replication for ${replicationPhaseMs / 1000} s under the same load`);
    const probing = { done: false };
    const lagProbes = Promise.all([
      probeEventualReplication(urls, topology, probing),
      probeStockReplication(urls, topology, probing),
    ]);
    await driveFlows(run, 'replication', replicationPhaseMs);
    probing.done = true;
    const [replication, stockReplication] = await lagProbes;
    await Promise.all(run.retries);
    const checkout = await auditCheckout(urls, topology.jurisdictions, initialStock, run.ledgers);

    return {
      label: options.label,
      model: model.name,
      description: model.description,
      regions: topology.jurisdictions.map((j) => ({ jurisdiction: j.name, regions: topology.deployOrder(j) })),
      homes,
      cells: [...cells.values()].map(cellResult),
      replication,
      stockReplication,
      checkout,
    };
  } finally {
    await platform.stop();
  }
}

/** Refuses rates and phases that are not above 0, naming the run and the field; the replication phase. */
function checkRunOptions(options: ModelRunOptions): number {
  for (const flow of FLOW_NAMES) {
    const rate = options.rates[flow];
    if (!(rate > 0)) throw new Error(`runModel ${options.label}: rates["${flow}"] must be above 0, got ${rate}`);
  }
  const replicationPhaseMs = options.replicationPhaseMs ?? DEFAULT_REPLICATION_PHASE_MS;
  for (const [field, value] of [
    ['durationMs', options.durationMs],
    ['warmupMs', options.warmupMs],
    ['replicationPhaseMs', replicationPhaseMs],
  ] as const) {
    if (!(value > 0)) throw new Error(`runModel ${options.label}: ${field} must be above 0, got ${value}`);
  }
  return replicationPhaseMs;
}

/** Stock of the checkout SKU per jurisdiction: a share of the checkouts planned there, so it sells out. */
function checkoutStock(topology: Topology, homes: Record<string, string>, options: ModelRunOptions) {
  const plannedCheckouts = (jurisdiction: string) =>
    CLIENT_LOCATIONS.filter((l) => homes[l] === jurisdiction).length *
    Math.round((options.durationMs / 1000) * options.rates.checkout);
  const initialStock: Record<string, number> = {};
  for (const jurisdiction of topology.jurisdictions) {
    initialStock[jurisdiction.name] = Math.floor(plannedCheckouts(jurisdiction.name) * CHECKOUT_STOCK_SHARE);
  }
  return initialStock;
}

async function signInShoppers(urls: PlatformUrls, homes: Record<string, string>): Promise<Record<string, Shopper[]>> {
  const shoppers: Record<string, Shopper[]> = {};
  for (const location of CLIENT_LOCATIONS) {
    const home = homes[location];
    if (!home) throw new Error(`no home jurisdiction for ${location}`);
    shoppers[location] = await Promise.all(
      Array.from({ length: SHOPPERS_PER_LOCATION }, async (_, i) => ({
        location,
        token: await token(urls, home, `shopper-${location}-${i}`),
      })),
    );
  }
  return shoppers;
}

/** What every flow call of a model's run shares. */
interface FlowRun {
  readonly options: ModelRunOptions;
  readonly client: ShopperClient;
  readonly homes: Record<string, string>;
  readonly shoppers: Record<string, Shopper[]>;
  readonly ledgers: Map<string, OrderLedger>;
  /** Retries of checkouts, checked when the run ends. */
  readonly retries: Promise<void>[];
}

/** Every flow from every location at its constant rate for `durationMs`, timed into `cells` if given. */
async function driveFlows(run: FlowRun, phase: Phase, durationMs: number, cells?: Map<string, Cell>) {
  const { rates } = run.options;
  const loops = CLIENT_LOCATIONS.length * FLOW_NAMES.length;
  await Promise.all(
    CLIENT_LOCATIONS.flatMap((location, l) =>
      FLOW_NAMES.map((flow, f) =>
        openLoop({
          ratePerSecond: rates[flow],
          durationMs,
          // Loops spread evenly over each one's interval: steady arrivals, not 15 at once.
          phaseMs: ((l * FLOW_NAMES.length + f) / loops) * (1000 / rates[flow]),
          run: (index, intendedStart) =>
            runFlow(run, { phase, location, flow, index, intendedStart }, cells?.get(`${location}|${flow}`)),
        }),
      ),
    ),
  );
}

interface FlowCall {
  readonly phase: Phase;
  readonly location: string;
  readonly flow: FlowName;
  readonly index: number;
  readonly intendedStart: number;
}

async function runFlow(run: FlowRun, call: FlowCall, cell: Cell | undefined): Promise<void> {
  const { phase, location, flow, index } = call;
  const shopper = run.shoppers[location]?.[index % SHOPPERS_PER_LOCATION];
  if (!shopper) throw new Error(`no shopper ${index} at ${location}`);
  const input: FlowInput = {
    shopper,
    client: run.client,
    key: `${phase}.${location}.${flow.replace(/ /g, '-')}.${index}`,
    sku: CATALOG[index % CATALOG.length] ?? CHECKOUT_SKU,
    // Unmeasured checkouts buy from the deep catalog, leaving the measured stock whole.
    checkoutSku: phase === 'measure' ? CHECKOUT_SKU : (CATALOG[0] ?? CHECKOUT_SKU),
  };
  const outcome = await FLOWS[flow](input).catch(
    (error: unknown): FlowOutcome => ({ answers: [], error: (error as Error).message }),
  );
  const elapsedMs = performance.now() - call.intendedStart;
  if (flow === 'checkout') noteCheckout(run, call, input, outcome);
  if (cell) recordOutcome(cell, outcome, elapsedMs);
}

function noteCheckout(run: FlowRun, call: FlowCall, input: FlowInput, outcome: FlowOutcome) {
  const ledger = run.ledgers.get(run.homes[call.location] ?? '');
  if (!ledger) throw new Error(`no ledger for the home of ${call.location}`);
  const answer = outcome.answers[0];
  noteOrder(ledger, call.phase, answer);
  if (call.phase === 'measure') {
    ledger.attempts += 1;
    if (answer?.status === 409 && !outcome.error) ledger.soldOut += 1;
  }
  if (call.index % RETRY_EVERY === 0 && answer && !outcome.error) {
    run.retries.push(checkRetry(input, answer, ledger, call.phase));
  }
}

/**
 * A failed flow is counted, not timed: a page that broke off after one call would pull the
 * percentiles down.
 */
function recordOutcome(cell: Cell, outcome: FlowOutcome, elapsedMs: number): void {
  if (outcome.error) {
    cell.errors += 1;
    if (cell.errorSamples.length < 3) cell.errorSamples.push(outcome.error);
  } else {
    record(cell.latency, elapsedMs);
  }
  for (const answer of outcome.answers) {
    cell.requests += 1;
    cell.trips += answer.trips;
    cell.maxTrips = Math.max(cell.maxTrips, answer.trips);
  }
}

function newCells(): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const location of CLIENT_LOCATIONS) {
    for (const flow of FLOW_NAMES) {
      cells.set(`${location}|${flow}`, {
        location,
        flow,
        latency: newHistogram(),
        errors: 0,
        errorSamples: [],
        requests: 0,
        trips: 0,
        maxTrips: 0,
      });
    }
  }
  return cells;
}

function cellResult(cell: Cell): CellResult {
  return {
    location: cell.location,
    flow: cell.flow,
    latency: summarize(cell.latency),
    errors: cell.errors,
    errorSamples: cell.errorSamples,
    requests: cell.requests,
    tripsPerRequestMax: cell.maxTrips,
    tripsPerRequestMean: cell.requests ? Math.round((cell.trips / cell.requests) * 100) / 100 : 0,
  };
}

interface JurisdictionLike {
  readonly name: string;
  readonly primaryRegion: string;
  readonly regions: readonly string[];
}

/** The catalog in every jurisdiction, through the primary, then waited for in every region. */
async function seed(
  urls: PlatformUrls,
  jurisdictions: readonly JurisdictionLike[],
  checkoutStock: Readonly<Record<string, number>>,
): Promise<void> {
  for (const jurisdiction of jurisdictions) {
    const admin = await token(urls, jurisdiction.name, 'bench-admin', true);
    const primary = required(urls.regionUrls, jurisdiction.primaryRegion, 'URL for region');
    const products = [
      ...CATALOG.map((sku) => ({ sku, stock: 1_000_000 })),
      { sku: CHECKOUT_SKU, stock: required(checkoutStock, jurisdiction.name, 'checkout stock for jurisdiction') },
    ];
    for (const { sku, stock } of products) {
      const answer = await request(`${primary}/api/products/${sku}`, 'PUT', {
        token: admin,
        headers: urls.originHeaders,
        body: { name: `Benchmark ${sku}`, priceCents: 1000, currency: 'EUR', stock },
      });
      if (answer.status !== 200 && answer.status !== 201) {
        throw new Error(`seeding ${sku} in ${jurisdiction.name}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }
    for (const region of jurisdiction.regions) {
      for (const { sku } of products) {
        await until(
          async () =>
            (
              await request(`${required(urls.regionUrls, region, 'URL for region')}/api/products/${sku}`, 'GET', {
                headers: urls.originHeaders,
              })
            ).status === 200,
          `${sku} replicated to ${region}`,
        );
      }
    }
  }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark set-up: waited ${timeoutMs} ms for ${what}`);
    await sleep(100);
  }
}

/** What the shoppers of one jurisdiction were told about their checkouts. */
interface OrderLedger {
  /** Order ids the API confirmed (201), measured apart from the rest (warm-up, replication phase). */
  readonly unmeasured: Set<string>;
  readonly measured: Set<string>;
  attempts: number;
  soldOut: number;
  retriesSent: number;
  /** Retries answered differently from the first request (must stay empty). */
  readonly retryMismatches: string[];
}

function newLedger(): OrderLedger {
  return { unmeasured: new Set(), measured: new Set(), attempts: 0, soldOut: 0, retriesSent: 0, retryMismatches: [] };
}

function noteOrder(ledger: OrderLedger, phase: Phase, answer: Answer | undefined): void {
  if (answer?.status !== 201 || typeof answer.body?.id !== 'string') return;
  (phase === 'measure' ? ledger.measured : ledger.unmeasured).add(answer.body.id);
}

/** Sends a checkout again: it must answer as the first time did, never a second order. */
async function checkRetry(input: FlowInput, first: Answer, ledger: OrderLedger, phase: Phase): Promise<void> {
  ledger.retriesSent += 1;
  const again = await placeOrder(input).catch((error: unknown) => ({
    status: 0,
    trips: 0,
    body: (error as Error).message,
  }));
  noteOrder(ledger, phase, again);
  if (!isOrderAnswer(again) || again.status !== first.status || again.body?.id !== first.body?.id) {
    ledger.retryMismatches.push(
      `${input.key}: first HTTP ${first.status} ${first.body?.id ?? ''}, retry HTTP ${again.status} ${again.body?.id ?? JSON.stringify(again.body)}`,
    );
  }
}

/** What the card processor kept, against the orders the shoppers were told of. */
export interface ChargeAudit {
  /** Captures kept (not voided). */
  readonly charges: number;
  /** Kept captures beyond one per confirmed order, strays included: must be 0. */
  readonly duplicateCharges: number;
  /** Kept captures for an order no shopper was told of (each attempt gets its own order id): must be 0. */
  readonly chargesWithoutOrder: number;
  /** Confirmed orders with no kept capture (goods without money): must be 0. */
  readonly ordersWithoutCharge: number;
}

export function auditCharges(
  captures: readonly { readonly orderId: string; readonly voided: boolean }[],
  confirmedOrders: ReadonlySet<string>,
): ChargeAudit {
  const kept = captures.filter((c) => !c.voided);
  const chargedConfirmed = new Set(kept.map((c) => c.orderId).filter((id) => confirmedOrders.has(id)));
  const stray = new Set(kept.map((c) => c.orderId).filter((id) => !confirmedOrders.has(id)));
  return {
    charges: kept.length,
    duplicateCharges: kept.length - chargedConfirmed.size,
    chargesWithoutOrder: stray.size,
    ordersWithoutCharge: [...confirmedOrders].filter((id) => !chargedConfirmed.has(id)).length,
  };
}

/**
 * After the load: the checkout product's stock (read from the strong store, not a cached
 * page) against the orders the API confirmed, and the card processor's captures against
 * those orders. Oversold units and duplicate charges must both be 0.
 */
async function auditCheckout(
  urls: PlatformUrls,
  jurisdictions: readonly JurisdictionLike[],
  initialStock: Readonly<Record<string, number>>,
  ledgers: ReadonlyMap<string, OrderLedger>,
): Promise<CheckoutAudit[]> {
  const payments = await control(urls, 'GET', '/payments');
  return Promise.all(
    jurisdictions.map(async (jurisdiction): Promise<CheckoutAudit> => {
      const ledger = required(ledgers, jurisdiction.name, 'order ledger for jurisdiction');
      const inventory = await control(urls, 'GET', `/jurisdictions/${jurisdiction.name}/inventory/${CHECKOUT_SKU}`);
      const finalStock = inventory.quantity;
      if (typeof finalStock !== 'number') {
        throw new Error(
          `checkout audit: no stock of ${CHECKOUT_SKU} in ${jurisdiction.name}: ${JSON.stringify(inventory)}`,
        );
      }
      const stock = required(initialStock, jurisdiction.name, 'initial stock for jurisdiction');
      // Every measured order is one unit of the checkout product.
      const confirmedUnits = ledger.measured.size;
      return {
        jurisdiction: jurisdiction.name,
        attempts: ledger.attempts,
        initialStock: stock,
        confirmedUnits,
        refusedSoldOut: ledger.soldOut,
        finalStock,
        oversoldUnits: Math.max(0, confirmedUnits - stock),
        stockMismatch: stock - finalStock - confirmedUnits,
        ...auditCharges(
          payments[jurisdiction.name]?.captures ?? [],
          new Set([...ledger.unmeasured, ...ledger.measured]),
        ),
        retriesSent: ledger.retriesSent,
        retryMismatches: ledger.retryMismatches,
      };
    }),
  );
}
