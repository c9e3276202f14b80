import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { matchRoute } from '../../lambda/shared/api-contract';
import { type ApiAnswer, onApiAnswer } from '../../local/api-answers';

/*
 * Every answer the tests receive from the API, checked against docs/openapi.json (the
 * checked-in document, so a code change the document does not describe fails here) with
 * Ajv, a maintained JSON Schema 2020-12 validator (OpenAPI 3.1's schema dialect).
 */

const document = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

/** A validator of `schema`, whose `#/components/...` references resolve in the document. */
function validatorOf(key: string, schema: object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: document.components });
    validators.set(key, validate);
  }
  return validate;
}

/**
 * The schema the document gives the answer `status` of `method path`; API Gateway's when no
 * route matches. A status the route does not list is the `default` answer, which only the
 * gateway's own bodies may use: a function's error must have its status documented.
 */
function answerSchema(method: string, urlPath: string, status: number): [string, object] {
  const match = matchRoute(method, urlPath.split('?')[0] ?? urlPath);
  if (!match) return ['gateway', { $ref: '#/components/schemas/GatewayError' }];
  const responses = document.paths[match.route.path][method.toLowerCase()].responses;
  const listed = responses[String(status)];
  if (listed) return [`${match.routeKey} ${status}`, listed.content['application/json'].schema];
  return [`${match.routeKey} default`, { $ref: '#/components/schemas/GatewayError' }];
}

/** Throws, naming the route, status and every mismatch, unless the document describes this answer. */
export function expectDocumented(method: string, urlPath: string, status: number, body: unknown): void {
  const [key, schema] = answerSchema(method, urlPath, status);
  const validate = validatorOf(key, schema);
  if (validate(body)) return;
  const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
  throw new Error(
    `${method} ${urlPath} answered ${status} ${JSON.stringify(body)}, not as docs/openapi.json says (${key}): ${problems}`,
  );
}

/**
 * Throws unless the local edge's own answer (no region served it: it stands in for Route 53,
 * which answers no HTTP in AWS) has one of the document's two error shapes.
 */
export function expectEdgeShape(method: string, urlPath: string, status: number, body: unknown): void {
  const validate = validatorOf('edge', {
    oneOf: [{ $ref: '#/components/schemas/Error' }, { $ref: '#/components/schemas/GatewayError' }],
  });
  if (validate(body)) return;
  throw new Error(
    `the edge answered ${method} ${urlPath} ${status} ${JSON.stringify(body)}: neither Error nor GatewayError`,
  );
}

/** A region's answer against its route in the document; the edge's own against the error shapes. */
function expectAnswerDocumented(method: string, urlPath: string, status: number, servedBy: unknown, body: unknown) {
  if (servedBy) expectDocumented(method, urlPath, status, body);
  else expectEdgeShape(method, urlPath, status, body);
}

/** `fetch` that checks every answer, a region's or the edge's own, against the document. */
export async function documentedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const text = await response.clone().text();
  const { pathname } = new URL(url);
  const servedBy = response.headers.get('x-served-by-region');
  expectAnswerDocumented(
    init.method ?? 'GET',
    pathname,
    response.status,
    servedBy,
    text ? JSON.parse(text) : undefined,
  );
  return response;
}

/** What `checkLocalToolAnswers` saw: how many answers, and each one the document does not describe. */
export interface AnswerCheck {
  readonly checked: number;
  readonly undocumented: readonly string[];
}

/**
 * From now until `stop()`, checks every answer the drill's and the benchmark's clients
 * receive (`local/api-answers.ts`). Mismatches are collected, not thrown: a throw inside the
 * clients would be counted as a failed request instead of failing the test.
 */
export function checkLocalToolAnswers(): { stop: () => AnswerCheck } {
  let checked = 0;
  const undocumented: string[] = [];
  const stopListening = onApiAnswer((answer: ApiAnswer) => {
    checked += 1;
    try {
      const { pathname } = new URL(answer.url);
      expectAnswerDocumented(answer.method, pathname, answer.status, answer.servedBy, answer.body);
    } catch (error) {
      if (undocumented.length < 20) undocumented.push((error as Error).message);
    }
  });
  return {
    stop: () => {
      stopListening();
      return { checked, undocumented };
    },
  };
}
