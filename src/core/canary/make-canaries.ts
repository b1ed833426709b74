import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';

/**
 * Canary credentials, unique per run: every value embeds the run's token, so a value seen later
 * (in sent bytes, a DNS label, an argv, a report from elsewhere) proves it came from this run.
 */
export interface CanaryFile {
  /** Absolute path inside the sandbox. */
  path: string;
  content: string;
  /** Identifier of the canary, e.g. `aws-credentials`. */
  canary: string;
  mode: number;
}

export interface CanaryValue {
  canary: string;
  value: string;
}

export interface CanarySet {
  token: string;
  files: CanaryFile[];
  env: Record<string, string>;
  values: CanaryValue[];
}

const HEX_TOKEN = /^[0-9a-f]{16}$/;

/** Builds the canary files, environment and the secret values to look for, from a 16-hex-digit token. */
export function makeCanaries(token: string): CanarySet {
  if (!HEX_TOKEN.test(token)) throw new Error(`Cannot make canaries from token ${JSON.stringify(token)}`);
  const up = token.toUpperCase();
  const secrets = {
    awsKeyId: `AKIA${up}`,
    awsSecret: `ph${token}aWsSeCrEt${token}`,
    sshKey: `phsshkey${token}`,
    pypiToken: `pypi-AgEph${token}`,
    npmToken: `npm_ph${token}`,
    gitCredential: `ghp_ph${token}gitcred`,
    dockerAuth: `ph${token}docker`,
    kubeToken: `ph${token}kube`,
    ciToken: `glcbt-ph${token}`,
    githubToken: `ghp_ph${token}env`,
    ciJobToken: `ph${token}cijob`,
  };
  const home = SANDBOX_LAYOUT.home;
  const files: CanaryFile[] = [
    {
      canary: 'aws-credentials',
      path: `${home}/.aws/credentials`,
      mode: 0o600,
      content: `[default]\naws_access_key_id = ${secrets.awsKeyId}\naws_secret_access_key = ${secrets.awsSecret}\n`,
    },
    {
      canary: 'ssh-private-key',
      path: `${home}/.ssh/id_rsa`,
      mode: 0o600,
      content: `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from(secrets.sshKey).toString('base64')}\n${secrets.sshKey}\n-----END OPENSSH PRIVATE KEY-----\n`,
    },
    {
      canary: 'pypirc',
      path: `${home}/.pypirc`,
      mode: 0o600,
      content: `[pypi]\nusername = __token__\npassword = ${secrets.pypiToken}\n`,
    },
    {
      canary: 'npmrc',
      path: `${home}/.npmrc`,
      mode: 0o600,
      content: `//registry.invalid/:_authToken=${secrets.npmToken}\n`,
    },
    {
      canary: 'git-credentials',
      path: `${home}/.git-credentials`,
      mode: 0o600,
      content: `https://builder:${secrets.gitCredential}@git.invalid\n`,
    },
    {
      canary: 'docker-config',
      path: `${home}/.docker/config.json`,
      mode: 0o600,
      content: `${JSON.stringify({ auths: { 'docker.invalid': { auth: Buffer.from(`builder:${secrets.dockerAuth}`).toString('base64') } } })}\n`,
    },
    {
      canary: 'kube-config',
      path: `${home}/.kube/config`,
      mode: 0o600,
      content: `apiVersion: v1\nkind: Config\nusers:\n- name: builder\n  user:\n    token: ${secrets.kubeToken}\n`,
    },
    {
      canary: 'git-config-ci-token',
      path: `${SANDBOX_LAYOUT.workdir}/.git/config`,
      mode: 0o644,
      content: `[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n\turl = https://gitlab-ci-token:${secrets.ciToken}@git.invalid/app.git\n[ci]\n\tci-token = ${secrets.ciToken}\n`,
    },
  ];
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: secrets.awsKeyId,
    AWS_SECRET_ACCESS_KEY: secrets.awsSecret,
    GITHUB_TOKEN: secrets.githubToken,
    CI_JOB_TOKEN: secrets.ciJobToken,
  };
  const values: CanaryValue[] = [
    { canary: 'aws-credentials', value: secrets.awsKeyId },
    { canary: 'aws-credentials', value: secrets.awsSecret },
    { canary: 'ssh-private-key', value: secrets.sshKey },
    { canary: 'pypirc', value: secrets.pypiToken },
    { canary: 'npmrc', value: secrets.npmToken },
    { canary: 'git-credentials', value: secrets.gitCredential },
    { canary: 'docker-config', value: secrets.dockerAuth },
    { canary: 'kube-config', value: secrets.kubeToken },
    { canary: 'git-config-ci-token', value: secrets.ciToken },
    { canary: 'env:GITHUB_TOKEN', value: secrets.githubToken },
    { canary: 'env:CI_JOB_TOKEN', value: secrets.ciJobToken },
  ];
  return { token, files, env, values };
}
