import { type FunctionEnvironment, optionalEnv, requiredEnv } from '../shared/environment';
import { type CardProcessor, RecordingCardProcessor, UnconfiguredCardProcessor } from './card-processor';
import { InvokedCardProcessor } from './invoked-card-processor';

/**
 * The orders function's card processor, by `PAYMENT_PROCESSOR`: `unconfigured` (the
 * default) refuses every order (503), `recording` approves everything and moves no money
 * (demos, the local platform), `stripe` captures through the payments function named by
 * `PAYMENTS_FUNCTION`. Any other value stops the cold start, naming it.
 */
export function cardProcessorFromEnvironment(env: FunctionEnvironment): CardProcessor {
  const choice = optionalEnv(env, 'PAYMENT_PROCESSOR') ?? 'unconfigured';
  switch (choice) {
    case 'unconfigured':
      return new UnconfiguredCardProcessor();
    case 'recording':
      return new RecordingCardProcessor();
    case 'stripe':
      return new InvokedCardProcessor({ functionName: requiredEnv(env, 'PAYMENTS_FUNCTION') });
    default:
      throw new Error(`PAYMENT_PROCESSOR is '${choice}': expected unconfigured, recording or stripe`);
  }
}
