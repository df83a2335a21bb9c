import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

// What the local stack and its tests need from the system (MariaDB's server, Debian's OpenStack
// clients) is found on PATH, or installed with apt-get when we are root on Debian/Ubuntu.
const execFileAsync = promisify(execFile);

// Debian keeps daemons in sbin, which is often missing from a non-root PATH.
const EXTRA_BINARY_DIRS = ['/usr/sbin', '/usr/bin'];

export async function findExecutable(name: string): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...pathDirs, ...EXTRA_BINARY_DIRS]) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory; keep looking
    }
  }
  return undefined;
}

async function isDebianFamily(): Promise<boolean> {
  try {
    await access('/etc/debian_version', constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function runLoudly(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  console.log(`$ ${command} ${args.join(' ')}`);
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (exitCode) => done(exitCode));
  });
  if (code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed with exit code ${code}`);
}

async function aptKnowsPackage(name: string): Promise<boolean> {
  const { stdout } = await execFileAsync('apt-cache', ['policy', name]);
  return /Candidate: (?!\(none\))/.test(stdout);
}

/**
 * Installs the Debian package `packageName` when one of `binaries` is missing. `missing(reason)` is
 * the error to raise when that cannot be done here (not root, not Debian, or the package did not
 * provide them), so the caller can say how to install it by hand.
 */
export async function ensureDebianPackage(
  packageName: string,
  binaries: string[],
  missing: (reason: string) => Error,
): Promise<void> {
  const allFound = async () =>
    (await Promise.all(binaries.map(findExecutable))).every((path) => path !== undefined);
  if (await allFound()) return;
  if (process.getuid?.() !== 0) throw missing('this process is not root');
  const aptGet = await findExecutable('apt-get');
  if (aptGet === undefined || !(await isDebianFamily())) {
    throw missing('this is not a Debian/Ubuntu system with apt-get');
  }
  console.log(`${binaries.join(', ')} not found: installing ${packageName} with apt-get`);
  if (!(await aptKnowsPackage(packageName))) await runLoudly(aptGet, ['update']);
  await runLoudly(aptGet, ['install', '-y', packageName], {
    ...process.env,
    DEBIAN_FRONTEND: 'noninteractive',
  });
  if (!(await allFound())) throw missing(`installing ${packageName} did not provide them`);
}
