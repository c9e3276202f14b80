import { createHash, timingSafeEqual } from 'node:crypto';

/** Reads every value of the origin secret that may be in use right now. */
export type OriginSecretValues = () => Promise<readonly string[]>;

export interface OriginProofVerifierOptions {
  /** How long values read are trusted before they are read again. @default 300000 (5 min) */
  readonly maxAgeMs?: number;
  /**
   * A proof that matches none of the values read forces a new read, at most this often: a
   * rotation's new value is accepted at the first request that carries it, without waiting for
   * `maxAgeMs` (the rotation waits this interval out after every replica has the value, before
   * CloudFront sends it), and a flood of wrong proofs costs at most one read per interval.
   * @default 10000
   */
  readonly refreshOnMismatchMs?: number;
  readonly now?: () => number;
}

/**
 * Checks the proof of origin CloudFront adds to every request (`ORIGIN_PROOF_HEADER`). Every
 * value that can be in flight during a rotation is accepted: the current one, the pending one
 * (CloudFront may already send it while its configuration spreads) and the previous one (some
 * edge locations may still send it), so a rotation needs no downtime.
 */
export class OriginProofVerifier {
  private values: readonly Buffer[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private reading?: Promise<void>;
  private readonly maxAgeMs: number;
  private readonly refreshOnMismatchMs: number;
  private readonly now: () => number;

  constructor(
    private readonly readValues: OriginSecretValues,
    options: OriginProofVerifierOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.refreshOnMismatchMs = options.refreshOnMismatchMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether `proof` is one of the secret's values in use. A failed read throws (never a cached "no"). */
  async verify(proof: string | undefined): Promise<boolean> {
    if (!proof) return false;
    if (this.now() - this.readAt >= this.maxAgeMs) await this.read();
    if (this.matches(proof)) return true;
    if (this.now() - this.readAt < this.refreshOnMismatchMs) return false;
    await this.read();
    return this.matches(proof);
  }

  private matches(proof: string): boolean {
    const digest = sha256(proof);
    // Digests of equal length, compared in constant time: the check leaks nothing of the secret.
    return this.values.some((value) => timingSafeEqual(value, digest));
  }

  /** One read at a time: concurrent checks wait for the same one. */
  private async read(): Promise<void> {
    this.reading ??= this.readValues()
      .then((values) => {
        this.values = values.filter(Boolean).map(sha256);
        this.readAt = this.now();
      })
      .finally(() => {
        this.reading = undefined;
      });
    await this.reading;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
