import type { Rule } from '../rule.ts';
import { canaryExfilRule, canaryReadRule } from './canary-rules.ts';
import { dnsTunnelRule } from './dns-rules.ts';
import { downloadExecuteRule, reverseShellRule, shellRule, toolRule } from './exec-rules.ts';
import { cloudMetadataRule, oobServiceRule, outboundRule } from './network-rules.ts';
import { NPM_RULES } from './npm-rules.ts';
import { persistenceRules } from './persistence-rules.ts';
import { accountFilesRule, reconCommandRule } from './recon-rules.ts';
import { survivorRule } from './survivor-rules.ts';
import { chmodExecRule, logTamperRule, systemBinaryRule } from './tamper-rules.ts';

/** Every dynamic rule, in the order findings are listed for the same score. */
export const DYNAMIC_RULES: readonly Rule[] = [
  canaryExfilRule,
  reverseShellRule,
  downloadExecuteRule,
  ...NPM_RULES,
  canaryReadRule,
  cloudMetadataRule,
  oobServiceRule,
  dnsTunnelRule,
  ...persistenceRules,
  systemBinaryRule,
  logTamperRule,
  survivorRule,
  reconCommandRule,
  accountFilesRule,
  toolRule,
  chmodExecRule,
  outboundRule,
  shellRule,
];
