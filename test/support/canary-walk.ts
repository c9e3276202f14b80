import { WalkError } from '../../lambda/canary/api-walk';

/** The environment variables the canary's handler requires. */
export const CANARY_VARIABLES = [
  'CANARY_TARGETS',
  'CANARY_SKU',
  'CANARY_SECRET_ARN',
  'USER_POOL_ID',
  'USER_POOL_CLIENT_ID',
] as const;

/**
 * Call in a `describe` whose tests set the canary's variables (and the optional
 * USER_POOL_REGION): after each test they are as before it, and every spy is restored.
 */
export function restoreCanaryEnvironmentAfterEach(): void {
  const names = [...CANARY_VARIABLES, 'USER_POOL_REGION', 'AWS_REGION'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    jest.restoreAllMocks();
  });
}

/** The WalkError a walk fails with; a walk that succeeds, or fails otherwise, fails the test. */
export async function failureOf(walk: Promise<unknown>): Promise<WalkError> {
  const error = await walk.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WalkError);
  if (!(error instanceof WalkError)) throw new Error(`the walk did not fail with a WalkError: ${error}`);
  return error;
}
