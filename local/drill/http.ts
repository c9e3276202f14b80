import { reportApiAnswer } from '../api-answers';
import type { LocalPlatform } from '../platform';

/** An HTTP answer: its status, the edge's and the region's headers, and the body (JSON parsed, else text). */
export interface Answer {
  readonly status: number;
  /** The region the edge sent the request to. */
  readonly routedTo: string | null;
  /** The region whose functions answered. */
  readonly servedBy: string | null;
  /** The answer's Retry-After header. */
  readonly retryAfter: string | null;
  readonly body: any;
}

/** No answer at all: `timeout`, or `connection <code>`. */
export interface NoAnswer {
  readonly kind: string;
}

export interface CallInit {
  readonly method: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON. */
  readonly body?: unknown;
}

/**
 * One call to the shop's API (through the edge or to a region); a failure to get any answer
 * comes back as an error kind instead. Every answer is reported (`local/api-answers.ts`).
 */
export async function call(url: string, init: CallInit, timeoutMs: number): Promise<Answer | NoAnswer> {
  const answer = await callUnreported(url, init, timeoutMs);
  if (isAnswer(answer)) {
    const servedBy = answer.servedBy ?? undefined;
    reportApiAnswer({ method: init.method, url, status: answer.status, servedBy, body: answer.body });
  }
  return answer;
}

/** One call to the platform's controls, which are not the shop's API: as `call`, unreported. */
export function callControlServer(url: string, init: CallInit, timeoutMs: number): Promise<Answer | NoAnswer> {
  return callUnreported(url, init, timeoutMs);
}

async function callUnreported(url: string, init: CallInit, timeoutMs: number): Promise<Answer | NoAnswer> {
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: kept as text.
    }
    return {
      status: response.status,
      routedTo: response.headers.get('x-edge-routed-to'),
      servedBy: response.headers.get('x-served-by-region'),
      retryAfter: response.headers.get('retry-after'),
      body,
    };
  } catch (error) {
    const failure = error as Error & { cause?: { code?: string } };
    if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return { kind: 'timeout' };
    // ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...: one word, so kinds group.
    return { kind: `connection ${failure.cause?.code ?? 'failed'}` };
  }
}

export const isAnswer = (result: Answer | NoAnswer): result is Answer => 'status' in result;

/** The platform's dev controls, over HTTP like any local tool; throws on anything but 200. */
export async function control(platform: LocalPlatform, method: string, path: string, body?: unknown): Promise<any> {
  const answer = await callControlServer(`${platform.controlUrl}${path}`, { method, body }, 10_000);
  if (!isAnswer(answer) || answer.status !== 200) {
    throw new Error(`control ${method} ${path} failed: ${JSON.stringify(answer)}`);
  }
  return answer.body;
}
