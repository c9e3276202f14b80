import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { importedPaths, longFunctions } from '../../support/code-shape';

/**
 * The shape the codebase keeps: dependencies one way (bin → local → lib → lambda),
 * files of one job (at most 600 lines) and functions short enough to read at once.
 */
const ROOT = path.join(__dirname, '..', '..', '..');
const LAYERS = ['bin', 'scripts', 'local', 'lib', 'lambda'] as const;
type Layer = (typeof LAYERS)[number];
/** What each layer may import from the project (`scripts` sits beside `bin`). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  bin: ['bin', 'local', 'lib', 'lambda'],
  scripts: ['scripts', 'local', 'lib', 'lambda'],
  local: ['local', 'lib', 'lambda'],
  lib: ['lib', 'lambda'],
  lambda: ['lambda'],
};
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 150;

const sources = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...LAYERS], {
  cwd: ROOT,
})
  .toString()
  .split('\n')
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));

/** The layer a project path is in, or undefined for a path outside them. */
const layerOf = (file: string): Layer | undefined => {
  const [first] = file.split('/');
  return LAYERS.find((layer) => layer === first);
};

describe('the shape of the code', () => {
  test('dependencies run one way: bin → local → lib → lambda, and lambda imports nothing of the others', () => {
    const wrong = sources.flatMap((file) => {
      const from = layerOf(file);
      if (!from) throw new Error(`${file} is in no layer`);
      return importedPaths(file, readFileSync(path.join(ROOT, file), 'utf8'), ROOT)
        .filter((target) => {
          const to = layerOf(target);
          return to !== undefined && !ALLOWED[from].includes(to);
        })
        .map((target) => `${file} imports ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  test(`no source file is over ${MAX_FILE_LINES} lines`, () => {
    const long = sources
      .map((file) => [file, readFileSync(path.join(ROOT, file), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  test(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sources.flatMap((file) =>
      longFunctions(file, readFileSync(path.join(ROOT, file), 'utf8'), MAX_FUNCTION_LINES),
    );
    expect(long).toEqual([]);
  });

  test('the checks see what they look for', () => {
    expect(importedPaths('lambda/cart/handler.ts', "import { x } from '../../lib/config/names';", ROOT)).toEqual([
      'lib/config/names',
    ]);
    const body = Array.from({ length: 5 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    expect(longFunctions('x.ts', `function tooLong() {\n${body}\n}\nconst short = () => 1;\n`, 5)).toEqual([
      'x.ts: tooLong (1-7)',
    ]);
  });
});
