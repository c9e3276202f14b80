/**
 * The environment contract between the CDK app, which sets these variables on each
 * function, and the handlers, which read them once per cold start. Written once: `lib/`
 * builds each function's environment as one of these types, so a misspelt or missing
 * variable fails `tsc` and synthesis instead of a cold start; the handlers read them
 * through `requiredEnv`/`optionalEnv`, which accept only names of this contract.
 */

/** What every API function is told by its stack. */
export type ApiEnvironment = {
  /** The jurisdiction this region serves, e.g. `eu`. */
  readonly JURISDICTION: string;
  /** The jurisdiction's primary region, where its Aurora writer normally is. */
  readonly PRIMARY_REGION: string;
  readonly DEPLOYMENT_MODEL: 'active-active' | 'active-passive';
  /** The jurisdiction's DynamoDB global table. */
  readonly EVENTUAL_TABLE: string;
  /** `host:port` of the region's Valkey cache. */
  readonly CACHE_ENDPOINT: string;
  /** The region's RDS Proxy endpoint. */
  readonly DB_PROXY_ENDPOINT: string;
  /** JSON of `JurisdictionDirectory`: every jurisdiction's pool region and API host. */
  readonly JURISDICTION_DIRECTORY: string;
};

/** What Powertools reads: each API function's service name and the metrics namespace. */
export type PowertoolsEnvironment = {
  readonly POWERTOOLS_SERVICE_NAME: string;
  readonly POWERTOOLS_METRICS_NAMESPACE: string;
};

/** How the orders function takes payments; set on that function alone. */
export type OrdersEnvironment = {
  /**
   * `unconfigured`: every order is refused (503), nothing charged; `recording`: the
   * stand-in that approves everything and moves no money (demos); `stripe`: captures go
   * through the payments function, the only one that reaches the internet.
   */
  readonly PAYMENT_PROCESSOR: 'unconfigured' | 'recording' | 'stripe';
  /** With `stripe`: the payments function the orders function invokes. */
  readonly PAYMENTS_FUNCTION?: string;
};

/** What the payments function (outside the VPC, with `stripe`) is told. */
export type PaymentsEnvironment = {
  /** The secret holding the processor's `{ "apiKey": "sk_..." }`, created before the deploy. */
  readonly PAYMENTS_SECRET_NAME: string;
  /** The processor's API; only tests point it elsewhere. @default https://api.stripe.com */
  readonly STRIPE_API_BASE?: string;
};

/** What the schema migration function (deploy time, in the VPC, one per region) is told. */
export type MigrationsEnvironment = {
  /**
   * The region's cluster instance endpoints, comma-separated. Not the cluster endpoint: a
   * global database's secondary cluster has no working writer endpoint.
   */
  readonly DB_INSTANCE_ENDPOINTS: string;
  /**
   * Primary region only: the cluster's master secret. Elsewhere the function signs in as
   * the migration role with an IAM token.
   */
  readonly DB_SECRET_ARN?: string;
  /** Trust RDS's certificate authority (Lambda's Node.js runtimes load it only when asked). */
  readonly NODE_EXTRA_CA_CERTS: string;
};

/** What the canary identity function (enrolment at deploy, password rotation) is told. */
export type CanaryIdentityEnvironment = {
  /** The jurisdiction's user pool, in its primary region (`USER_POOL_REGION`). */
  readonly USER_POOL_ID: string;
  /** The app client the canaries sign in with (ALLOW_ADMIN_USER_PASSWORD_AUTH). */
  readonly USER_POOL_CLIENT_ID: string;
  readonly USER_POOL_REGION: string;
  /** The canary user's sign-in name (an e-mail address of the shop's domain). */
  readonly CANARY_USERNAME: string;
  /** The secret of this region holding `{ "username", "password", "totpSecret" }`. */
  readonly CANARY_SECRET_ARN: string;
  /** The jurisdiction's DynamoDB global table, where the canary product is created if missing. */
  readonly EVENTUAL_TABLE: string;
  /** The canary product's SKU. */
  readonly CANARY_SKU: string;
  /** The canary product's currency (ISO 4217), e.g. `EUR`. */
  readonly CANARY_CURRENCY: string;
};

/** What the token authorizer is told. */
export type AuthorizerEnvironment = {
  readonly USER_POOL_ID: string;
  readonly USER_POOL_CLIENT_ID: string;
  /** This region's SSM parameter holding its copy of the pool's JWKS. */
  readonly SIGNING_KEYS_PARAMETER: string;
  /** The KMS key whose signature the copy must carry. */
  readonly SIGNING_KEYS_COPY_KEY: string;
  readonly JURISDICTION: string;
  readonly JURISDICTION_DIRECTORY: string;
  /**
   * Name of this region's replica of the secret CloudFront sends as its proof of origin
   * (`ORIGIN_PROOF_HEADER`); every route but the health probes requires it.
   */
  readonly ORIGIN_SECRET_NAME: string;
};

/** What the function that copies the pool's signing keys into the region is told. */
export type SigningKeysEnvironment = {
  readonly USER_POOL_ID: string;
  readonly SIGNING_KEYS_PARAMETER: string;
  /** The KMS key (sign and verify) that signs the copy. */
  readonly SIGNING_KEYS_COPY_KEY: string;
};

/** What the function that rotates the origin secret is told. */
export type OriginRotationEnvironment = {
  /** The CloudFront distribution whose API origins send the secret. */
  readonly DISTRIBUTION_ID: string;
};

/** What the API canary (a Synthetics script) is told. */
export type CanaryEnvironment = {
  /** JSON list of `{ "label", "baseUrl" }`. */
  readonly CANARY_TARGETS: string;
  readonly CANARY_SKU: string;
  /** The secret holding the canary user's credentials. */
  readonly CANARY_SECRET_ARN: string;
  readonly USER_POOL_ID: string;
  readonly USER_POOL_CLIENT_ID: string;
  readonly USER_POOL_REGION: string;
  readonly CANARY_STEP_TIMEOUT_MS: string;
};

/**
 * Set by the local platform and the tests only, never by the CDK app: they point the
 * stores at local engines and pick the stand-in card processor.
 */
export type LocalEnvironment = {
  /** A DynamoDB API endpoint (dynalite) instead of the regional service. */
  readonly DYNAMODB_ENDPOINT?: string;
  /** `false`: a single plain-text Valkey node instead of ElastiCache Serverless. */
  readonly CACHE_SERVERLESS?: 'false';
  readonly DB_PORT?: string;
  readonly DB_NAME?: string;
  readonly DB_USER?: string;
  /** A password instead of an IAM token per connection. */
  readonly DB_PASSWORD?: string;
  /** `false`: no TLS to a local PostgreSQL. */
  readonly DB_TLS?: 'false';
};

/** Set by the Lambda runtime itself. */
export type RuntimeEnvironment = {
  readonly AWS_REGION: string;
};

export type VariableName = keyof (ApiEnvironment &
  PowertoolsEnvironment &
  OrdersEnvironment &
  PaymentsEnvironment &
  MigrationsEnvironment &
  CanaryIdentityEnvironment &
  AuthorizerEnvironment &
  SigningKeysEnvironment &
  OriginRotationEnvironment &
  CanaryEnvironment &
  LocalEnvironment &
  RuntimeEnvironment);

/** A process environment as the handlers read it: only the contract's names. */
export type FunctionEnvironment = Readonly<Partial<Record<VariableName, string>>>;

/** Reads a variable the deployment must set; a missing one stops the cold start with its name. */
export function requiredEnv(env: FunctionEnvironment, name: VariableName): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Reads a variable that may be absent. */
export function optionalEnv(env: FunctionEnvironment, name: VariableName): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}
