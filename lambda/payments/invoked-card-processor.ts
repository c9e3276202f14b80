import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  type CaptureRequest,
  type CaptureResult,
  type CardProcessor,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
} from './card-processor';
import { type PaymentsEvent, type PaymentsResult, paymentsResultSchema } from './payments-protocol';

/** The one call made of the Lambda client. */
export interface LambdaInvoker {
  send(command: InvokeCommand, options: { abortSignal: AbortSignal }): Promise<InvokeCommandOutput>;
}

export interface InvokedCardProcessorOptions {
  /** The payments function's name or ARN. */
  readonly functionName: string;
  /** Tests pass a fake. @default a LambdaClient that never retries */
  readonly client?: LambdaInvoker;
  /**
   * How long to wait for the payments function's answer: its own timeout (15 s in
   * `CardPayments`) plus 2 s for a cold start's init and the invoke itself, so its answer,
   * "timed out" included, normally arrives. A wait that runs out is an unknown outcome.
   * @default 17000
   */
  readonly timeoutMs?: number;
}

/**
 * The orders function's card processor with `PAYMENT_PROCESSOR=stripe`: it runs in
 * isolated subnets with no internet, so it invokes the payments function (outside the VPC)
 * synchronously through the Lambda interface endpoint, and maps its answer back.
 *
 * A capture whose invoke Lambda refused (a 4xx: throttled, denied, not found; the function
 * did not run) is `PaymentUnavailableError`: nothing was charged. Any other failure (a
 * network error, the wait running out, a function error such as its timeout, a malformed
 * answer) may come after the money moved, so it is `PaymentOutcomeUnknownError`, never
 * "nothing charged". It is not invoked again here: the client's retry with the same key is
 * that replay (the Stripe keys come from the order request, not the attempt), and the
 * orders function has no time for a second full wait. A void's failure is
 * `PaymentUnavailableError`; the store reports the capture it leaves standing.
 */
export class InvokedCardProcessor implements CardProcessor {
  readonly requiresPaymentMethod = true;
  private readonly client: LambdaInvoker;
  private readonly timeoutMs: number;

  constructor(private readonly options: InvokedCardProcessorOptions) {
    // No SDK retries: a retried invoke could run a second capture beside the first, whose
    // answer would then be lost. The order's own retry is a new attempt under new keys.
    this.client = options.client ?? new LambdaClient({ maxAttempts: 1 });
    this.timeoutMs = options.timeoutMs ?? 17_000;
  }

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    let result: PaymentsResult;
    try {
      result = await this.invoke({ action: 'capture', request });
    } catch (error) {
      if (error instanceof InvokeFailure && !error.notRun) throw new PaymentOutcomeUnknownError(error.message);
      throw error;
    }
    if ('status' in result && (result.status === 'captured' || result.status === 'declined')) return result;
    if ('error' in result && result.error === 'outcome-unknown') {
      throw new PaymentOutcomeUnknownError(`payments function: ${result.reason}`);
    }
    if ('error' in result) throw this.unexpected(result);
    // A capture answered as a void: the function ran, and what it did is not known.
    throw new PaymentOutcomeUnknownError(`the payments function answered ${result.status} to a capture`);
  }

  async void(captureId: string): Promise<void> {
    const result = await this.invoke({ action: 'void', captureId });
    if ('status' in result && result.status === 'voided') return;
    throw this.unexpected(result);
  }

  private async invoke(event: PaymentsEvent): Promise<PaymentsResult> {
    let output: InvokeCommandOutput;
    try {
      output = await this.client.send(
        new InvokeCommand({
          FunctionName: this.options.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
    } catch (error) {
      const { name, $fault } = error as { name?: unknown; $fault?: unknown };
      // Lambda answers 4xx only for an invoke it refused: the function did not run.
      throw new InvokeFailure(`the payments function could not be invoked (${String(name)})`, $fault === 'client');
    }
    if (output.FunctionError) {
      throw new InvokeFailure(`the payments function failed (${output.FunctionError})`, false);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(output.Payload ?? new Uint8Array()));
    } catch {
      throw new InvokeFailure('the payments function answered no JSON', false);
    }
    const parsed = paymentsResultSchema.safeParse(payload);
    if (!parsed.success) throw new InvokeFailure('the payments function answered an unknown shape', false);
    return parsed.data;
  }

  private unexpected(result: PaymentsResult): PaymentUnavailableError {
    if ('error' in result && result.error === 'outcome-unknown') {
      return new PaymentUnavailableError(`payments function: ${result.reason}`);
    }
    if ('error' in result) return new PaymentUnavailableError(`payments function: ${result.error}: ${result.reason}`);
    return new PaymentUnavailableError(`the payments function answered ${result.status} to the wrong action`);
  }
}

/** An invoke without a clear answer; `notRun` when Lambda refused it, so nothing ran. */
class InvokeFailure extends PaymentUnavailableError {
  constructor(
    reason: string,
    readonly notRun: boolean,
  ) {
    super(reason);
  }
}
