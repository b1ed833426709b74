import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throw-away PostgreSQL server for tests: Debian's binaries (installed with apt when missing),
 * a fresh cluster in a pkghunt-pg-* temp dir owned by the `postgres` OS user, listening on
 * 127.0.0.1 on a free port with its Unix socket inside the temp dir, durability off for speed.
 * `stop()` shuts it down and removes the directory; nothing is left behind.
 */
export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/DB */
  url: string;
  port: number;
  dir: string;
  pid: number;
  /** A further empty database on the same server, for tests that need isolation. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const PG_USER = 'postgres';

function findBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

function ensureInstalled(): string {
  const found = findBinDir();
  if (found) return found;
  // The tests run as root (like the sandbox); install from Debian's packages as setup.sh would.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], {
    stdio: 'ignore',
    env,
  });
  const after = findBinDir();
  if (!after) throw new Error('Cannot find initdb after installing postgresql');
  return after;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function asPostgres(bin: string, args: string[]): string[] {
  return ['--reuid', PG_USER, '--regid', PG_USER, '--init-groups', '--', bin, ...args];
}

async function waitReady(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited with code ${child.exitCode}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      last = error;
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`PostgreSQL did not accept connections in time: ${String(last)}`);
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startTestPostgres(options: { database?: string } = {}): Promise<TestPostgres> {
  const bin = ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-pg-'));
  const uid = Number(execFileSync('id', ['-u', PG_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', PG_USER], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  let child: ChildProcess | null = null;
  try {
    execFileSync(
      'setpriv',
      asPostgres(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        PG_USER,
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
      { stdio: 'ignore', cwd: dir },
    );
    const port = await freePort();
    const server = spawn(
      'setpriv',
      asPostgres(join(bin, 'postgres'), [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
    );
    child = server;
    let log = '';
    server.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const admin = `postgres://${PG_USER}@127.0.0.1:${port}/postgres`;
    await waitReady(admin, server, 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${log}`);
    });
    const createDatabase = async (name: string): Promise<string> => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://${PG_USER}@127.0.0.1:${port}/${name}`;
    };
    const url = await createDatabase(options.database ?? 'pkghunt_test');
    const stop = async (): Promise<void> => {
      // SIGINT is PostgreSQL's "fast shutdown": ends sessions, checkpoints, exits.
      if (server.pid !== undefined && server.exitCode === null) server.kill('SIGINT');
      if (!(await waitExit(server, 15_000))) server.kill('SIGKILL');
      await waitExit(server, 5_000);
      rmSync(dir, { recursive: true, force: true });
    };
    return { url, port, dir, pid: server.pid ?? -1, createDatabase, stop };
  } catch (error) {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
