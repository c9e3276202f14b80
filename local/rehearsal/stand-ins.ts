import { createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { ParameterNotFound } from '@aws-sdk/client-ssm';
import type { Deployment } from './deployment';
import { FakeSecrets, type FakeService, FakeTable, FakeUserPool } from './identity-stand-ins';
import type { StandIns } from './recorder';

/**
 * Answers for the AWS services that have no local engine, enough for each function's code
 * to run its whole path, with state per region as AWS keeps it: SSM parameters (absent until
 * put), KMS signing and verifying with a real P-256 key pair (as the copy key's
 * ECDSA_SHA_256), Aurora's master secret, the canary's user pool, secret and product
 * (`identity-stand-ins.ts`), Cognito's JWKS endpoint serving `jwks`, and a clock the
 * canary's TOTP codes follow, which the functions' waits move on instead of sleeping.
 * DynamoDB calls of a client pointed at a local engine go on to it. Any other command
 * throws, naming itself, after the recorder has seen it.
 */
export class AwsStandIns {
  /** The time the stand-ins and the canary identity function see. */
  readonly clock = { now: Date.now() };
  private readonly parameters = new Map<string, string>();
  private readonly pools = new Map<string, FakeUserPool>();
  private readonly secrets = new Map<string, FakeSecrets>();
  private readonly tables = new Map<string, FakeTable>();
  private readonly keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  constructor(
    private readonly jwks: string,
    private readonly deployment: Deployment,
  ) {}

  /** The canary identity function's clock and waits, on the stand-ins' time. */
  readonly timing = {
    now: () => this.clock.now,
    sleep: async (ms: number) => {
      this.clock.now += ms;
    },
  };

  get standIns(): StandIns {
    return {
      sdk: (client, operation, input, context) => {
        if (client === 'DynamoDBClient' && context.customEndpoint) return undefined;
        return this.answer(client, operation, input, context.region);
      },
      // No Aurora here: the migrations' sessions are recorded, then refused as unreachable.
      postgres: (host) =>
        host.endsWith('.amazonaws.com') ? new Error(`the rehearsal has no database at ${host}`) : undefined,
      // Cognito's JWKS for the key copier; any other host off this machine answers 503, so
      // no call leaves it (the canaries' walks end there, their host recorded).
      fetch: (url) => {
        if (
          /^cognito-idp\.[a-z0-9-]+\.amazonaws\.com$/.test(url.hostname) &&
          url.pathname.endsWith('/.well-known/jwks.json')
        )
          return new Response(this.jwks, { status: 200, headers: { 'content-type': 'application/json' } });
        if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return undefined;
        return new Response(JSON.stringify({ message: `the rehearsal does not reach ${url.hostname}` }), {
          status: 503,
        });
      },
    };
  }

  private async answer(client: string, operation: string, input: Record<string, any>, region: string) {
    switch (client) {
      case 'SSMClient':
        return this.ssm(operation, input, region);
      case 'KMSClient':
        return this.kms(operation, input);
      case 'SecretsManagerClient':
        return this.service(this.secrets, String(input.SecretId), () =>
          this.newSecret(String(input.SecretId), region),
        ).answer(operation, input);
      // One pool per region: the session calls (AssociateSoftwareToken, ...) name no pool.
      case 'CognitoIdentityProviderClient':
        return this.service(this.pools, region, () => new FakeUserPool(this.clock)).answer(operation, input);
      case 'DynamoDBClient':
        return this.service(this.tables, `${region}|${input.TableName}`, () => new FakeTable()).answer(
          operation,
          input,
        );
      default:
        throw new Error(`the rehearsal has no stand-in for ${client} ${operation}`);
    }
  }

  /** The current value of a secret of the app, as its region (or a replica's) holds it. */
  secretString(arnOrName: string, region: string): string {
    const secret = this.service(this.secrets, arnOrName, () => this.newSecret(arnOrName, region));
    return String(secret.GetSecretValue({ SecretId: arnOrName }).SecretString);
  }

  /** What Secrets Manager's RotateSecret does before it calls the rotation function. */
  startRotation(secretArn: string, token: string): void {
    this.service(this.secrets, secretArn, () => this.newSecret(secretArn)).startRotation(token);
  }

  private ssm(operation: string, input: Record<string, any>, region: string) {
    const key = `${region}|${input.Name}`;
    if (operation === 'PutParameter') {
      this.parameters.set(key, String(input.Value));
      return { Version: 1 };
    }
    const value = this.parameters.get(key);
    if (operation !== 'GetParameter') throw new Error(`the rehearsal has no stand-in for SSM ${operation}`);
    if (value === undefined) throw new ParameterNotFound({ message: `no parameter ${input.Name}`, $metadata: {} });
    return { Parameter: { Name: input.Name, Value: value, Type: 'String' } };
  }

  private kms(operation: string, input: Record<string, any>) {
    const { privateKey, publicKey } = this.keyPair;
    if (operation === 'Sign')
      return { KeyId: input.KeyId, Signature: createSign('SHA256').update(input.Message).sign(privateKey) };
    if (operation !== 'Verify') throw new Error(`the rehearsal has no stand-in for KMS ${operation}`);
    if (!createVerify('SHA256').update(input.Message).verify(publicKey, Buffer.from(input.Signature)))
      throw Object.assign(new Error('KMSInvalidSignatureException'), { name: 'KMSInvalidSignatureException' });
    return { KeyId: input.KeyId, SignatureValid: true };
  }

  /**
   * A secret as CloudFormation creates it from its template's `GenerateSecretString`: the
   * template's JSON with the generated key added (Aurora's master login), or a bare string.
   * Named by its ARN, or by its name in its own region or a region it is replicated to.
   */
  private newSecret(arnOrName: string, region?: string): FakeSecrets {
    const { app } = this.deployment;
    const found = app.stacks
      .flatMap((stack) => Object.entries(stack.template.Resources).map(([id, resource]) => ({ stack, id, resource })))
      .find(({ stack, id, resource }) => {
        if (resource.Type !== 'AWS::SecretsManager::Secret') return false;
        if (app.resolve(stack, { Ref: id }) === arnOrName) return true;
        const replicas = ((resource.Properties?.ReplicaRegions ?? []) as { Region: string }[]).map((r) => r.Region);
        const inRegion = region === undefined || stack.region === region || replicas.includes(region);
        return inRegion && app.resolve(stack, resource.Properties?.Name) === arnOrName;
      });
    if (!found) throw new Error(`the rehearsal has no secret ${arnOrName} in the app`);
    const generate = found.resource.Properties?.GenerateSecretString as
      | { SecretStringTemplate?: string; GenerateStringKey?: string }
      | undefined;
    const generated = randomBytes(24).toString('base64url');
    const value =
      generate?.SecretStringTemplate && generate.GenerateStringKey
        ? JSON.stringify({ ...JSON.parse(generate.SecretStringTemplate), [generate.GenerateStringKey]: generated })
        : generated;
    const secret = new FakeSecrets();
    secret.addVersion(value, ['AWSCURRENT']);
    return secret;
  }

  private service<S extends FakeService>(services: Map<string, S>, key: string, make: () => S): S {
    const existing = services.get(key);
    if (existing) return existing;
    const made = make();
    services.set(key, made);
    return made;
  }
}
