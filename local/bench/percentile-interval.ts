import { nth } from '../required';

/**
 * Which samples bound a percentile's confidence interval, distribution-free: with n samples
 * of any continuous distribution, the number below its true q-quantile is Binomial(n, q),
 * so the interval from the `lower`-th to the `upper`-th smallest sample (1-based) holds the
 * true quantile with at least `confidence` probability (the classical order-statistic
 * interval). `upper` is n + 1 when no sample bounds it from above: too few samples.
 * Latency tails are not normal, so a mean ± z·sd interval would not do; no library at
 * hand computes this, and it is a few lines.
 */
export function percentileIntervalRanks(
  n: number,
  q: number,
  confidence = 0.95,
): { readonly lower: number; readonly upper: number } {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`percentileIntervalRanks: n must be a whole number of 1 or more, got ${n}`);
  if (!(q > 0 && q < 1)) throw new Error(`percentileIntervalRanks: q must be between 0 and 1, got ${q}`);
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`percentileIntervalRanks: confidence must be between 0 and 1, got ${confidence}`);
  }
  // cdf[k] = P(B <= k), B ~ Binomial(n, q), the pmf built in log space so large n cannot underflow.
  const logPmf = (k: number) => logChoose(n, k) + k * Math.log(q) + (n - k) * Math.log1p(-q);
  const cdf: number[] = [];
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    sum += Math.exp(logPmf(k));
    cdf.push(sum);
  }
  const tail = (1 - confidence) / 2;
  // The true quantile lies between x(r) and x(s) when r <= B < s: P = cdf[s-1] - cdf[r-1].
  let lower = 1;
  while (lower < n && nth(cdf, lower, 'cdf entry') <= tail) lower += 1;
  // n + 1 when even the largest sample is too likely to be below the quantile (p95 of 60).
  let upper = n + 1;
  while (upper - 1 > lower && 1 - nth(cdf, upper - 2, 'cdf entry') <= tail) upper -= 1;
  return { lower, upper };
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++)
    logFactorials.push(nth(logFactorials, i - 1, 'log factorial') + Math.log(i));
  return nth(logFactorials, n, 'log factorial');
}
