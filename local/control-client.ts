/** Calls a local platform's dev controls, as the scenario tests and the benchmark do; throws on any answer but 200. */
export async function callControl(controlUrl: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${controlUrl}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (response.status !== 200) {
    throw new Error(`control ${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  }
  return answer;
}
