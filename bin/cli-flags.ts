import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

const HELP = { help: { type: 'boolean' } } as const;

/** How `parseFlags` calls `parseArgs`: strict, no positionals, `--help` added. */
interface StrictConfig<Options extends ParseArgsOptionsConfig> {
  readonly options: Options & typeof HELP;
  readonly strict: true;
  readonly allowPositionals: false;
}

/** The flags as `parseArgs` types them from the declared options: each a string or a boolean, or absent. */
export type FlagValues<Options extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<StrictConfig<Options>>
>['values'];

/**
 * A local CLI's flags, parsed strictly: an unknown flag or a positional argument goes to
 * `fail` (which exits) with a message naming it. Adds `--help`, which prints `usage` and
 * returns undefined.
 */
export function parseFlags<const Options extends ParseArgsOptionsConfig>(
  options: Options,
  usage: string,
  fail: (message: string) => never,
): FlagValues<Options> | undefined {
  const config: StrictConfig<Options> = { options: { ...options, ...HELP }, strict: true, allowPositionals: false };
  let values: FlagValues<Options>;
  try {
    ({ values } = parseArgs(config));
  } catch (error) {
    fail((error as Error).message);
  }
  if ('help' in values && values.help === true) {
    console.log(usage);
    return undefined;
  }
  return values;
}
