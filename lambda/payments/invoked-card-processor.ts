import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { type CaptureRequest, type CaptureResult, type CardProcessor, PaymentUnavailableError } from './card-processor';
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
   * How long to wait for the payments function's answer. Longer than that function's own
   * timeout (15 s in `CardPayments`), so its answer, "timed out" included, always arrives.
   * @default 16000
   */
  readonly timeoutMs?: number;
}

/**
 * The orders function's card processor with `PAYMENT_PROCESSOR=stripe`: it runs in
 * isolated subnets with no internet, so it invokes the payments function (outside the VPC)
 * synchronously through the Lambda interface endpoint, and maps its answer back.
 * Anything but a clear answer (an SDK or network error, a timeout, a function error, a
 * malformed payload) is `PaymentUnavailableError`: the order answers 503 with its key unspent.
 */
export class InvokedCardProcessor implements CardProcessor {
  readonly requiresPaymentMethod = true;
  private readonly client: LambdaInvoker;
  private readonly timeoutMs: number;

  constructor(private readonly options: InvokedCardProcessorOptions) {
    // No SDK retries: a retried invoke could run a second capture beside the first, whose
    // answer would then be lost. The order's own retry is a new attempt under new keys.
    this.client = options.client ?? new LambdaClient({ maxAttempts: 1 });
    this.timeoutMs = options.timeoutMs ?? 16_000;
  }

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    const result = await this.invoke({ action: 'capture', request });
    if ('status' in result && (result.status === 'captured' || result.status === 'declined')) return result;
    throw this.unexpected(result);
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
      const name = (error as { name?: unknown }).name;
      throw new PaymentUnavailableError(`the payments function could not be invoked (${String(name)})`);
    }
    if (output.FunctionError) {
      throw new PaymentUnavailableError(`the payments function failed (${output.FunctionError})`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(output.Payload ?? new Uint8Array()));
    } catch {
      throw new PaymentUnavailableError('the payments function answered no JSON');
    }
    const parsed = paymentsResultSchema.safeParse(payload);
    if (!parsed.success) throw new PaymentUnavailableError('the payments function answered an unknown shape');
    return parsed.data;
  }

  private unexpected(result: PaymentsResult): PaymentUnavailableError {
    if ('error' in result) return new PaymentUnavailableError(`payments function: ${result.error}: ${result.reason}`);
    return new PaymentUnavailableError(`the payments function answered ${result.status} to the wrong action`);
  }
}
