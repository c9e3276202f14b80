import type { KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { jwksUriOf, parseJwks } from '../authorizer/pool-verifier';
import { signCopy, verifiedCopy } from './signed-copy';

export interface CopyKeysOptions {
  readonly userPoolId: string;
  /** The SSM parameter of this region that holds the copy. */
  readonly parameterName: string;
  /** The region's copy key (KMS, sign and verify), which signs the copy. */
  readonly copyKeyId: string;
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly kms: Pick<KMSClient, 'send'>;
  /** @default global fetch */
  readonly fetch?: typeof fetch;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /**
   * When the pool's JWKS cannot be had and the region already holds a copy, keep it and
   * succeed (a deploy must not fail because the pool's region is down). The scheduled
   * refresh does not, so its failure shows in the function's errors.
   * @default false
   */
  readonly keepCopyOnFailure?: boolean;
}

export interface CopyKeysResult {
  /** `unchanged`: the copy already held these keys; `kept`: the pool could not be reached, the copy stays. */
  readonly outcome: 'written' | 'unchanged' | 'kept';
  /** Why the pool's keys could not be had, with `kept`. */
  readonly reason?: string;
  /** Key ids of the copy (public; safe to log). */
  readonly kids: readonly string[];
}

/**
 * Copies the user pool's public signing keys (its JWKS, fetched from the pool's region)
 * into this region's parameter, where the authorizer reads them at cold start: a region
 * then verifies tokens with no call to the pool's region, which may be down. Run at deploy
 * and on a schedule, so a key the pool adds reaches every region within the schedule.
 */
export async function copySigningKeys(options: CopyKeysOptions): Promise<CopyKeysResult> {
  const current = await currentCopy(options);
  let jwks: Jwks;
  try {
    jwks = await fetchPoolKeys(options);
  } catch (error) {
    if (!options.keepCopyOnFailure || current === undefined) throw error;
    const kept = parseJwks(current, `parameter ${options.parameterName}`);
    return { outcome: 'kept', kids: kept.keys.map((key) => String(key.kid)), reason: (error as Error).message };
  }
  const kids = jwks.keys.map((key) => String(key.kid));
  const text = JSON.stringify(jwks);
  if (current === text) return { outcome: 'unchanged', kids };
  const copy = await signCopy(options.kms, options.copyKeyId, text);
  await options.ssm.send(
    new PutParameterCommand({
      Name: options.parameterName,
      Value: JSON.stringify(copy),
      Type: 'String',
      Overwrite: true,
    }),
  );
  return { outcome: 'written', kids };
}

async function fetchPoolKeys(options: CopyKeysOptions): Promise<Jwks> {
  const uri = jwksUriOf(options.userPoolId);
  const response = await (options.fetch ?? fetch)(uri, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  if (!response.ok) throw new Error(`the pool's JWKS answered ${response.status} at ${uri}`);
  const text = await response.text();
  const jwks = parseJwks(text, `the JWKS at ${uri}`);
  if (jwks.keys.length === 0) throw new Error(`the JWKS at ${uri} has no keys`);
  return jwks;
}

/** The JWKS text of the region's current copy, if it has one that verifies. */
async function currentCopy(options: CopyKeysOptions): Promise<string | undefined> {
  let value: string | undefined;
  try {
    const answer = await options.ssm.send(new GetParameterCommand({ Name: options.parameterName }));
    value = answer.Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
  if (value === undefined) return undefined;
  const copy = await verifiedCopy(options.kms, options.copyKeyId, value);
  return 'jwks' in copy ? copy.jwks : undefined;
}
