import { type ParseArgsConfig, parseArgs } from 'node:util';

export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * A local CLI's flags, parsed strictly: an unknown flag or a positional argument goes to
 * `fail` (which exits) with a message naming it. Adds `--help`, which prints `usage` and
 * returns undefined.
 */
export function parseFlags(
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
  fail: (message: string) => never,
): FlagValues | undefined {
  let values: FlagValues = {};
  try {
    ({ values } = parseArgs({
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }) as { values: FlagValues });
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(usage);
    return undefined;
  }
  return values;
}
