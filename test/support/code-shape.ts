import * as path from 'node:path';
import { parseSync } from '@swc/core';

/** Project-relative paths a file imports (static imports, re-exports, `import()` and `require`). */
export function importedPaths(file: string, text: string, root: string): string[] {
  const specifiers = [...text.matchAll(/(?:from|import|require)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)];
  return specifiers.map((match) => path.relative(root, path.resolve(root, path.dirname(file), match[1] ?? '')));
}

/** Functions longer than `limit` lines: `name (first line-last line)`. */
export function longFunctions(file: string, text: string, limit: number): string[] {
  const module = parseSync(text, { syntax: 'typescript', target: 'es2022' });
  const lineOf = lineIndex(text, module.span.start);
  const found: string[] = [];
  const visit = (node: unknown, name: string): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, name);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as {
      type?: string;
      span?: { start: number; end: number };
      identifier?: { value?: string };
      key?: { value?: string };
    };
    const label = record.identifier?.value ?? record.key?.value ?? name;
    if (FUNCTIONS.has(record.type ?? '') && record.span) {
      const [first, last] = [lineOf(record.span.start), lineOf(record.span.end)];
      if (last - first + 1 > limit) found.push(`${file}: ${label} (${first}-${last})`);
    }
    for (const value of Object.values(record)) visit(value, label);
  };
  visit(module.body, '(anonymous)');
  return found;
}

const FUNCTIONS = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ClassMethod',
  'Constructor',
]);

/** Line number (1-based) of an swc byte offset; swc counts offsets across parses from `base`. */
function lineIndex(text: string, base: number): (offset: number) => number {
  const bytes = Buffer.from(text);
  const starts = [0];
  bytes.forEach((byte, index) => {
    if (byte === 0x0a) starts.push(index + 1);
  });
  return (offset) => {
    const at = offset - base;
    let line = 0;
    while (line + 1 < starts.length && (starts[line + 1] ?? Number.POSITIVE_INFINITY) <= at) line += 1;
    return line + 1;
  };
}
