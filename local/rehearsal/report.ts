import { type FunctionVerdict, unusedEverywhere } from './check';

/** The rehearsal's table for one deployment model, with every denial and unreachable call spelt out. */
export function renderReport(model: string, verdicts: readonly FunctionVerdict[]): string {
  const header = ['function', 'region', 'calls', 'allowed', 'reachable', 'unused grants'];
  const rows = verdicts.map((v) => [
    v.scope.function,
    v.scope.region,
    String(v.calls),
    String(v.allowed),
    String(v.reachable),
    String(v.unusedGrants.length),
  ]);
  const t = totals(verdicts);
  rows.push(['total', '', String(t.calls), String(t.allowed), String(t.reachable), String(t.unusedGrants)]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const problems = verdicts.flatMap((v) => [
    ...v.denied.map(
      (d) =>
        `DENIED      ${v.scope.function} in ${v.scope.region}: ${d.request.action} on ${d.request.resource}` +
        `${d.request.impliedBy ? ` (implied by ${d.request.impliedBy})` : ''}: ${d.reason}`,
    ),
    ...v.unreachable.map(
      (u) => `UNREACHABLE ${v.scope.function} in ${v.scope.region}: ${u.call} to ${u.target.host}: ${u.reason}`,
    ),
  ]);
  return [
    `Rehearsal of ${model}`,
    line(header),
    ...rows.map(line),
    `${t.denied} denied, ${t.unreachable} unreachable`,
    ...problems,
    ...unusedByFunction(verdicts),
  ].join('\n');
}

export function totals(verdicts: readonly FunctionVerdict[]) {
  const sum = (pick: (v: FunctionVerdict) => number) => verdicts.reduce((total, v) => total + pick(v), 0);
  return {
    calls: sum((v) => v.calls),
    allowed: sum((v) => v.allowed),
    reachable: sum((v) => v.reachable),
    denied: sum((v) => v.denied.length),
    unreachable: sum((v) => v.unreachable.length),
    unusedGrants: sum((v) => v.unusedGrants.length),
  };
}

/** Grants no region used, per function and reason (or that none is given). */
function unusedByFunction(verdicts: readonly FunctionVerdict[]): string[] {
  return [...unusedEverywhere(verdicts).entries()].flatMap(([fn, actions]) => {
    const byReason = new Map<string, string[]>();
    for (const [action, reason] of actions) {
      const key = reason ?? 'NO REASON GIVEN';
      byReason.set(key, [...(byReason.get(key) ?? []), action]);
    }
    return [...byReason.entries()].map(([reason, list]) => `unused      ${fn}: ${list.join(', ')}: ${reason}`);
  });
}
