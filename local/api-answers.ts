/**
 * Every answer the local tools' API clients (the drill's and the benchmark's) receive, for
 * whoever wants to check them: the tests hold each against docs/openapi.json. Not a logger:
 * nothing is kept when nobody listens.
 */
export interface ApiAnswer {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The region whose API answered; absent for the local edge's own answers. */
  readonly servedBy: string | undefined;
  /** JSON parsed; text when it was not JSON; undefined when empty. */
  readonly body: unknown;
}

type AnswerListener = (answer: ApiAnswer) => void;

const listeners = new Set<AnswerListener>();

/** Calls `listener` with every answer from now on; the returned function stops it. */
export function onApiAnswer(listener: AnswerListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function reportApiAnswer(answer: ApiAnswer): void {
  for (const listener of listeners) listener(answer);
}
