export { checkSandboxCapabilities, type SandboxCapabilities } from './capabilities.ts';
export { cleanupStaleSandboxes } from './cleanup-stale-sandboxes.ts';
export {
  type CreateSandboxOptions,
  createSandbox,
  type ExecOptions,
  type ExecResult,
  newCanaryToken,
  type PhaseOptions,
  type PhaseRun,
  type Sandbox,
} from './create-sandbox.ts';
