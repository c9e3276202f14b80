import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { optionalEnv, requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { type CardProcessor, PaymentUnavailableError } from './card-processor';
import { createPaymentsHandler } from './payments-function';
import { StripeCardProcessor } from './stripe-card-processor';

// Outside the VPC: the only function with a route to the internet (Stripe's API). It holds
// the Stripe key and nothing else: no store, no other secret.
const secretName = requiredEnv(process.env, 'PAYMENTS_SECRET_NAME');
const baseUrl = optionalEnv(process.env, 'STRIPE_API_BASE');
const secrets = new SecretsManagerClient({});
let processor: Promise<CardProcessor> | undefined;

/**
 * The longest the secret read may take, SDK retries included: part of the payments
 * function's time budget (see `StripeCardProcessorOptions.timeoutMs`).
 */
const SECRET_READ_TIMEOUT_MS = 2000;

/** Reads `{ "apiKey": "sk_..." }` once per cold start; a failed read is tried again on the next call. */
async function loadProcessor(): Promise<CardProcessor> {
  let apiKey: unknown;
  try {
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretName }), {
      abortSignal: AbortSignal.timeout(SECRET_READ_TIMEOUT_MS),
    });
    apiKey = (JSON.parse(secret.SecretString ?? '{}') as { apiKey?: unknown }).apiKey;
  } catch (error) {
    throw new PaymentUnavailableError(`the payments secret ${secretName} could not be read (${(error as Error).name})`);
  }
  if (typeof apiKey !== 'string' || !/^(sk|rk)_/.test(apiKey)) {
    throw new PaymentUnavailableError(`the payments secret ${secretName} holds no apiKey starting sk_ or rk_`);
  }
  return new StripeCardProcessor({
    apiKey,
    baseUrl,
    onUnreleased: (problem) => logger.error('payment not released: refund or cancel it by hand', problem),
  });
}

export const handler = createPaymentsHandler({
  processor: () => {
    processor ??= loadProcessor().catch((error: unknown) => {
      processor = undefined;
      throw error;
    });
    return processor;
  },
  log: logger,
});
