import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { jwksUriOf, parseJwks } from '../authorizer/pool-verifier';

export interface CopyKeysOptions {
  readonly userPoolId: string;
  /** The SSM parameter of this region that holds the copy. */
  readonly parameterName: string;
  readonly ssm: Pick<SSMClient, 'send'>;
  /** @default global fetch */
  readonly fetch?: typeof fetch;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

export interface CopyKeysResult {
  /** `unchanged`: the copy already held these keys. */
  readonly outcome: 'written' | 'unchanged';
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
  const uri = jwksUriOf(options.userPoolId);
  const response = await (options.fetch ?? fetch)(uri, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  if (!response.ok) throw new Error(`the pool's JWKS answered ${response.status} at ${uri}`);
  const text = await response.text();
  const jwks = parseJwks(text, `the JWKS at ${uri}`);
  if (jwks.keys.length === 0) throw new Error(`the JWKS at ${uri} has no keys`);
  const kids = jwks.keys.map((key) => String(key.kid));
  const value = JSON.stringify(jwks);
  if ((await currentValue(options)) === value) return { outcome: 'unchanged', kids };
  await options.ssm.send(
    new PutParameterCommand({ Name: options.parameterName, Value: value, Type: 'String', Overwrite: true }),
  );
  return { outcome: 'written', kids };
}

async function currentValue(options: CopyKeysOptions): Promise<string | undefined> {
  try {
    const answer = await options.ssm.send(new GetParameterCommand({ Name: options.parameterName }));
    return answer.Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}
