/**
 * Makes sure a Valkey or Redis server is on the machine before the tests, `npm run local`,
 * `npm run drill` or `npm run bench` start one (they run it on loopback themselves).
 *
 * PostgreSQL and the DynamoDB API come from npm; Valkey does not, so on a machine without it
 * this installs Debian's `redis-server` with apt-get where it may (root, or passwordless
 * sudo, on Debian or Ubuntu) and otherwise stops with one line that says what to install.
 *
 *   node --import tsx scripts/ensure-valkey.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findValkeyServer } from '../local/engines';

const WHAT_TO_INSTALL =
  'valkey-server or redis-server must be on the PATH: install one (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install valkey`) and run again.';

/** The prefix that runs apt-get as root, or undefined when this user cannot. */
function rootPrefix(): string[] | undefined {
  if (!existsSync('/usr/bin/apt-get')) return undefined;
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : undefined;
}

function aptGet(prefix: string[], args: string[]): boolean {
  const [command, ...rest] = [...prefix, 'apt-get', ...args];
  const run = spawnSync(command as string, rest, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return run.status === 0;
}

function main(): number {
  if (findValkeyServer()) return 0;
  const prefix = rootPrefix();
  if (!prefix) {
    console.error(WHAT_TO_INSTALL);
    return 1;
  }
  console.error('No Valkey/Redis server found: installing redis-server with apt-get (once per machine).');
  const installed =
    aptGet(prefix, ['update', '-qq']) &&
    aptGet(prefix, ['install', '-y', '-qq', '--no-install-recommends', 'redis-server']);
  if (installed && findValkeyServer()) return 0;
  console.error(`apt-get could not install redis-server; ${WHAT_TO_INSTALL}`);
  return 1;
}

process.exitCode = main();
