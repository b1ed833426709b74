import type { Command } from '../record/schema.ts';

export interface ProcessNode {
  command: Command;
  /** Index of the command in its phase's `commands` (for evidence pointers). */
  index: number;
  children: ProcessNode[];
}

/**
 * The commands of a phase as a tree by pid/ppid. A pid exec'ing again (sh -c then exec) is a child
 * of its earlier exec; a command whose parent ran no command is a root.
 */
export function processTree(commands: readonly Command[]): ProcessNode[] {
  const roots: ProcessNode[] = [];
  const latestByPid = new Map<number, ProcessNode>();
  commands.forEach((command, index) => {
    const node: ProcessNode = { command, index, children: [] };
    const parent =
      latestByPid.get(command.pid) ?? (command.ppid === null ? undefined : latestByPid.get(command.ppid));
    if (parent === undefined) roots.push(node);
    else parent.children.push(node);
    latestByPid.set(command.pid, node);
  });
  return roots;
}
