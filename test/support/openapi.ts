import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { matchRoute } from '../../lambda/shared/api-contract';

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
 * `fetch` that checks every answer a region served (`x-served-by-region`) against the
 * document; the edge's own refusals are the local platform's, not the API's.
 */
export async function documentedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  if (response.headers.get('x-served-by-region')) {
    const text = await response.clone().text();
    expectDocumented(init.method ?? 'GET', new URL(url).pathname, response.status, text ? JSON.parse(text) : undefined);
  }
  return response;
}
