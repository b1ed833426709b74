import type { BehaviourOptions, TraceBehaviour } from './trace-behaviour.ts';
import { TraceBehaviourBuilder } from './trace-behaviour-builder.ts';

export type { BehaviourOptions, TraceBehaviour } from './trace-behaviour.ts';
export { TraceBehaviourBuilder } from './trace-behaviour-builder.ts';

/** Builds the behaviour of one traced phase from strace lines (see TraceBehaviourBuilder to stream). */
export function buildBehaviour(lines: Iterable<string>, options: BehaviourOptions): TraceBehaviour {
  const builder = new TraceBehaviourBuilder(options);
  for (const line of lines) builder.push(line);
  return builder.finish();
}

/** Same, for a stream of lines (e.g. readline over the trace file). */
export async function buildBehaviourAsync(
  lines: AsyncIterable<string>,
  options: BehaviourOptions,
): Promise<TraceBehaviour> {
  const builder = new TraceBehaviourBuilder(options);
  for await (const line of lines) builder.push(line);
  return builder.finish();
}
