import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { documentedFetch } from '../../support/openapi';

// `npm run local` as a user runs it: flags checked with clear messages, a busy port named,
// a start that prints every URL, and Ctrl-C that leaves no process behind.
const ROOT = path.join(__dirname, '..', '..', '..');

/** What `npm run local` (or another local CLI) runs: one Node.js process with tsx as its loader. */
function run(args: string[], script = 'bin/local.ts'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Every process below `pid`, however deep. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n');
  const children = new Map<number, number[]>();
  for (const line of table) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined) throw new Error(`not a ps line: ${line}`);
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

/** Running, that is: exited processes not yet reaped (zombies) do not count. */
function alive(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)])
      .toString()
      .includes('Z');
  } catch {
    return false;
  }
}

test.each([
  [['--bogus'], "Unknown option '--bogus'"],
  [['--model', 'sideways'], 'deploymentModel'],
  [['--port-base', 'abc'], '--port-base must be a number'],
  [['--distance-scale=-1'], '--distance-scale must be a number of at least 0'],
])('bad flags %j stop with a message naming the problem', async (args, message) => {
  const { code, stderr } = await finished(run(args));
  expect(code).toBe(2);
  expect(stderr).toContain(message);
  expect(stderr).toContain('Usage: npm run local');
});

test.each([
  [['--bogus'], "Unknown option '--bogus'"],
  [['--models', 'single-region,sideways'], '--models: unknown model "sideways"'],
  [['--duration-s', '1'], '--duration-s must be a number from 2 to 600, got "1"'],
  [['--replication-delay-ms', 'soon'], '--replication-delay-ms must be a number'],
])(
  'npm run bench: bad flags %j stop with a message naming the problem, before anything starts',
  async (args, message) => {
    const { code, stdout, stderr } = await finished(run(args, 'bin/bench.ts'));
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: npm run bench');
    expect(stdout).toBe('');
  },
);

test('a busy port is named', async () => {
  const blocker = createServer();
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const { code, stderr } = await finished(run(['--port-base', String(port)]));
    expect(code).toBe(2);
    expect(stderr).toContain(`port ${port} (edge) is already in use`);
  } finally {
    blocker.close();
  }
});

test('starts the default topology, prints every URL, answers, and Ctrl-C leaves nothing running', async () => {
  // Below the ephemeral range, where the engines pick their own ports.
  const portBase = 20_000 + Math.floor(Math.random() * 10_000);
  const child = run(['--port-base', String(portBase), '--health-interval-ms', '200']);
  const result = finished(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ctrl-C stops everything') && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(output).toContain(`edge (CloudFront + Route 53)  http://127.0.0.1:${portBase}`);
  for (const region of ['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'])
    expect(output).toContain(`API ${region}`);
  const startSeconds = Number(/Ready in ([\d.]+) s/.exec(output)?.[1]);
  expect(startSeconds).toBeLessThan(20);

  const health = await documentedFetch(`http://127.0.0.1:${portBase}/api/health`, {
    headers: { 'x-client-region': 'ap-southeast-1' },
  });
  expect(health.status).toBe(200);
  expect(((await health.json()) as { region: string }).region).toBe('ap-southeast-1');

  const spawned = descendants(child.pid as number);
  expect(spawned.length).toBeGreaterThan(0);
  child.kill('SIGINT');
  const { code } = await result;
  expect(code).toBe(0);
  expect(output).toContain('Stopped; nothing left running');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const left = spawned.filter(alive).map((pid) => {
    try {
      return execFileSync('ps', ['-o', 'pid=,args=', '-p', String(pid)])
        .toString()
        .trim();
    } catch {
      return `${pid} (gone)`;
    }
  });
  expect(left).toEqual([]);
});
