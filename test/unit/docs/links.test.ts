import * as fs from 'node:fs';
import * as path from 'node:path';

// The README and docs/*.md as a reader follows them: every relative link reaches a file
// (and, with an #anchor into a Markdown file, a heading of it), and every repository path
// quoted in backticks exists. Checked on in-memory Markdown first, so a broken link or a
// missing path provably fails, then on the real files.

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Backticked text starting with one of these is read as a path into the repository. */
const REPO_PATH_PREFIXES = ['lib/', 'lambda/', 'local/', 'bin/', 'scripts/', 'test/', 'docs/', 'examples/', '.ci/'];

/** Written by `npm run bench` (local/bench/report.ts), not by hand: its table widths are the generator's. */
const GENERATED = new Set(['docs/benchmark.md']);
const MAX_LINE_CHARS = 200;

/** What the checker may ask about the repository; the real one reads the disk, tests plant their own. */
interface RepoView {
  /** Whether a file or folder exists at this path, relative to the repository root. */
  exists(repoPath: string): boolean;
  /** The Markdown text of a file, relative to the repository root. */
  read(repoPath: string): string;
}

interface DocProblem {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Lines of prose: fenced code blocks are blanked (kept as empty lines, so line numbers stay true). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker?.startsWith(fence)) fence = undefined;
      return '';
    }
    return line;
  });
}

/** The anchors of a Markdown text's headings, with GitHub's `-1`, `-2` suffixes for repeats. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/**
 * The repository paths a backticked text names, or none when it is not a plain path.
 * `{a,b}` alternatives are expanded; text with a glob (`*`, `?`), a `<placeholder>`, a
 * space or a `#`, `:` or `$` is not checked (it is a pattern, a command or a template).
 */
function quotedRepoPaths(code: string): string[] {
  if (!REPO_PATH_PREFIXES.some((prefix) => code.startsWith(prefix))) return [];
  if (/[*?<>\s#:$[\]]/.test(code)) return [];
  const braces = /\{([^{}]*)\}/.exec(code);
  if (!braces) return /[{}]/.test(code) ? [] : [code];
  const [whole, inner] = braces;
  if (inner === undefined) throw new Error(`no alternatives inside ${whole}`);
  return inner.split(',').flatMap((choice) => quotedRepoPaths(code.replace(whole, choice)));
}

/**
 * Every broken relative link, anchor and quoted repository path of one Markdown file.
 * `file` is relative to the repository root; links resolve from its folder, quoted paths
 * from the root.
 */
function checkMarkdown(file: string, repo: RepoView): DocProblem[] {
  const problems: DocProblem[] = [];
  const folder = path.posix.dirname(file);
  const anchorsOf = (target: string) => headingAnchors(repo.read(target));
  proseLines(repo.read(file)).forEach((line, index) => {
    const at = (problem: string) => problems.push({ file, line: index + 1, problem });
    const withoutCode = line.replace(/`[^`]*`/g, '``');
    for (const [, href] of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (href === undefined || /^(https?:|mailto:)/i.test(href)) continue;
      const [target = '', anchor] = href.split('#');
      const resolved = target === '' ? file : path.posix.normalize(path.posix.join(folder, decodeURI(target)));
      if (resolved.startsWith('..')) {
        at(`link ${href} leaves the repository`);
      } else if (!repo.exists(resolved)) {
        at(`link ${href}: no file ${resolved}`);
      } else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
        at(`link ${href}: ${resolved} has no heading with anchor #${anchor}`);
      }
    }
    for (const [, code] of line.matchAll(/`([^`]+)`/g)) {
      for (const repoPath of quotedRepoPaths(code ?? '')) {
        if (!repo.exists(repoPath.replace(/\/$/, ''))) at(`path \`${repoPath}\` does not exist`);
      }
    }
  });
  return problems;
}

/** A repository made of the given files, in memory. */
function plantedRepo(files: Readonly<Record<string, string>>): RepoView {
  const all = Object.keys(files);
  return {
    exists: (p) => all.some((file) => file === p || file.startsWith(`${p}/`)),
    read: (p) => files[p] ?? '',
  };
}

const diskRepo: RepoView = {
  exists: (p) => fs.existsSync(path.join(ROOT, p)),
  read: (p) => fs.readFileSync(path.join(ROOT, p), 'utf8'),
};

const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('the documentation checker, on planted Markdown', () => {
  const repo = (readme: string) =>
    plantedRepo({
      'README.md': readme,
      'docs/design.md': '# Design\n\n## Data: stores and merge rules\n\n## CDK choices\n',
      'lib/api/regional-api.ts': '',
    });

  test('a link to a file that exists, with an anchor of one of its headings, passes', () => {
    // given
    const readme =
      'See [merge rules](docs/design.md#data-stores-and-merge-rules) and [CDK](docs/design.md#cdk-choices).';
    // when
    const problems = checkMarkdown('README.md', repo(readme));
    // then
    expect(problems).toEqual([]);
  });

  test('a link to a missing file is reported with its line', () => {
    // given
    const readme = '# Title\n\nSee [the runbook](docs/runbook.md).';
    // when
    const problems = checkMarkdown('README.md', repo(readme));
    // then
    expect(problems).toEqual([
      { file: 'README.md', line: 3, problem: 'link docs/runbook.md: no file docs/runbook.md' },
    ]);
  });

  test('an anchor no heading of the target has is reported', () => {
    // given
    const readme = 'See [design](docs/design.md#design-section-3).';
    // when
    const problems = checkMarkdown('README.md', repo(readme));
    // then
    expect(problems.map((p) => p.problem)).toEqual([
      'link docs/design.md#design-section-3: docs/design.md has no heading with anchor #design-section-3',
    ]);
  });

  test('links resolve from the folder of the file that holds them, same-file anchors included', () => {
    // given
    const files = {
      'docs/design.md':
        '# Design\n\n## Topology\n\n[back](../README.md), [up](#topology), [api](../lib/api/regional-api.ts)',
      'README.md': '',
      'lib/api/regional-api.ts': '',
    };
    // when
    const fine = checkMarkdown('docs/design.md', plantedRepo(files));
    const broken = checkMarkdown(
      'docs/design.md',
      plantedRepo({ ...files, 'docs/design.md': '[x](README.md) [y](#nope)' }),
    );
    // then
    expect(fine).toEqual([]);
    expect(broken.map((p) => p.problem)).toEqual([
      'link README.md: no file docs/README.md',
      'link #nope: docs/design.md has no heading with anchor #nope',
    ]);
  });

  test.each([
    [
      'a backticked repository path that does not exist is reported; one that exists is not',
      ['The API is `lib/api/regional-api.ts`, its folder `lib/api/`; the rules are in `lib/nope.ts`.'],
      ['path `lib/nope.ts` does not exist'],
    ],
    [
      '{a,b} alternatives are each checked; globs, placeholders and commands are not paths',
      [
        '`lib/api/{regional-api,writer-api}.ts`',
        '`lambda/<domain>/handler.ts`, `local/drill*`, `npx tsx scripts/nope.ts`, `docs/x.md#anchor`',
      ],
      ['path `lib/api/writer-api.ts` does not exist'],
    ],
    [
      'web and mail links, and anything inside code, are not followed',
      [
        '[AWS](https://aws.amazon.com/) [mail](mailto:oncall@example.com) `[not a link](nowhere.md)`',
        '```sh',
        'cat lib/nope.ts  # [nor this](nowhere.md) `lib/nope.ts`',
        '```',
      ],
      [],
    ],
  ])('%s', (_, readmeLines, expected) => {
    // given a README of these lines; when it is checked
    const problems = checkMarkdown('README.md', repo(readmeLines.join('\n')));
    // then
    expect(problems.map((p) => p.problem)).toEqual(expected);
  });

  test('headings get GitHub anchors, repeats numbered', () => {
    // given
    const markdown =
      '## Data: stores and merge rules\n### `Api5xxRate`\n## Failback\n## Failback\n```\n# not a heading\n```';
    // when
    const anchors = headingAnchors(markdown);
    // then
    expect([...anchors]).toEqual(['data-stores-and-merge-rules', 'api5xxrate', 'failback', 'failback-1']);
  });
});

describe.each(DOCS)('%s', (file) => {
  const text = diskRepo.read(file);

  test('every relative link reaches a file (and heading), every quoted repository path exists', () => {
    expect(checkMarkdown(file, diskRepo)).toEqual([]);
  });

  test('names no design brief outside the repository', () => {
    for (const outside of ['../shared', 'DESIGN §', 'DESIGN.md']) expect(text).not.toContain(outside);
  });

  test(`has no line over ${MAX_LINE_CHARS} characters (generated files aside)`, () => {
    if (GENERATED.has(file)) return;
    const long = text
      .split('\n')
      .map((line, index) => ({ line: index + 1, chars: [...line].length }))
      .filter(({ chars }) => chars > MAX_LINE_CHARS);
    expect(long).toEqual([]);
  });
});
