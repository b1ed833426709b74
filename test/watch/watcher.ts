import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../src/config.ts';

export type Event = Record<string, unknown> & { type: string };

/** A `pkghunt watch --json` process: its NDJSON events as they come, and a way to wait for one. */
export interface Watcher {
  child: ChildProcess;
  events: Event[];
  stderr: () => string;
  exited: Promise<number | null>;
  waitFor(
    predicate: (event: Event, all: Event[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Event>;
}

export function startWatcher(args: readonly string[]): Watcher {
  const child = spawn(join(PROJECT_ROOT, 'bin/pkghunt'), ['watch', ...args, '--json'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const waiters: { predicate: (e: Event, all: Event[]) => boolean; resolve: (e: Event) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      return;
    }
    events.push(event);
    for (const w of [...waiters]) {
      if (w.predicate(event, events)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return {
    child,
    events,
    stderr: () => err,
    exited,
    waitFor(predicate, what, timeoutMs = 120_000) {
      const found = events.find((e) => predicate(e, events));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `Timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-15))}\n${err.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`The watcher exited while waiting for ${what}: ${err.slice(-3000)}`));
        });
      });
    },
  };
}
