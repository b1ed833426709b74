import { readdir } from 'node:fs/promises';
import { runCommand } from './run-command.ts';

const NETNS_DIR = '/run/netns';
const OWNED_NAME = /^pkghunt-(\d+)-/;

/**
 * Deletes network namespaces left by pkghunt runs that died without cleaning up. The creating pid is
 * part of the name (pkghunt-<pid>-<id>), so a namespace whose creator still runs is left alone.
 * Returns the names it deleted.
 */
export async function cleanupStaleNetns(): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(NETNS_DIR);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const pid = Number(OWNED_NAME.exec(name)?.[1]);
    return Number.isInteger(pid) && pid > 0 && !_isAlive(pid);
  });
  const deleted: string[] = [];
  for (const name of stale) {
    const result = await runCommand(['ip', 'netns', 'delete', name]).catch(() => null);
    if (result?.code === 0) deleted.push(name);
  }
  return deleted;
}

function _isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
