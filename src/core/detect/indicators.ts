/**
 * Indicator lists the rules match against. Data, not logic: extend them here (with a reason in
 * the review) rather than in the rules.
 */

/** Out-of-band interaction / request-catching services used to confirm blind execution. */
export const OOB_SERVICE_SUFFIXES: readonly string[] = [
  'interact.sh',
  'interactsh.com',
  'oast.fun',
  'oast.live',
  'oast.me',
  'oast.online',
  'oast.pro',
  'oast.site',
  'oastify.com',
  'burpcollaborator.net',
  'canarytokens.com',
  'canarytokens.org',
  'dnslog.cn',
  'dnslog.link',
  'ceye.io',
  'requestbin.net',
  'requestbin.com',
  'requestcatcher.com',
  'pipedream.net',
  'm.pipedream.net',
  'webhook.site',
  'hookbin.com',
  'beeceptor.com',
  'ngrok.io',
  'ngrok.app',
  'ngrok-free.app',
  'ngrok.dev',
  'trycloudflare.com',
  'serveo.net',
  'localhost.run',
  'loca.lt',
  'xip.io',
  'nip.io',
  'bind9.net',
  'dnsbin.zhack.ca',
  'discord.com/api/webhooks',
  'discordapp.com/api/webhooks',
  'api.telegram.org',
  'transfer.sh',
  'pastebin.com',
];

/** Instance metadata endpoints: where cloud credentials are read from. */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254',
  'fd00:ec2::254',
  '169.254.170.2',
  '100.100.100.200',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
];

export const SHELLS: readonly string[] = [
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'csh',
  'tcsh',
  'fish',
  'busybox',
];

/** Tools that move or decode data; package code rarely has a reason to run them at install. */
export const SUSPICIOUS_TOOLS: readonly string[] = [
  'curl',
  'wget',
  'nc',
  'ncat',
  'netcat',
  'nc.openbsd',
  'nc.traditional',
  'socat',
  'telnet',
  'ftp',
  'tftp',
  'scp',
  'sftp',
  'ssh',
  'rsync',
  'base64',
  'base32',
  'xxd',
  'openssl',
  'powershell',
  'pwsh',
  'powershell.exe',
  'certutil',
  'bitsadmin',
  'mshta',
  'rundll32',
  'regsvr32',
  'nohup',
  'setsid',
  'crontab',
  'at',
  'systemctl',
  'useradd',
  'usermod',
  'passwd',
  'chattr',
  'shred',
  'dd',
];

/** Commands that describe the host or the user: reconnaissance when package code runs them. */
export const RECON_COMMANDS: readonly string[] = [
  'whoami',
  'id',
  'uname',
  'hostname',
  'hostnamectl',
  'ip',
  'ifconfig',
  'netstat',
  'ss',
  'arp',
  'route',
  'ps',
  'env',
  'printenv',
  'w',
  'who',
  'last',
  'groups',
  'lsb_release',
  'getent',
  'df',
  'mount',
  'lscpu',
  'lspci',
  'dmidecode',
  'nproc',
  'systeminfo',
  'ipconfig',
];

/** Account databases; /etc/passwd is also read by libc lookups, so it weighs less. */
export const ACCOUNT_FILES: readonly { path: string; secret: boolean }[] = [
  { path: '/etc/passwd', secret: false },
  { path: '/etc/group', secret: false },
  { path: '/etc/shadow', secret: true },
  { path: '/etc/gshadow', secret: true },
  { path: '/etc/sudoers', secret: true },
];

/** Where code goes to run again later. `~` is the sandbox home. */
export const PERSISTENCE_PLACES: readonly {
  id: string;
  title: string;
  attack: string;
  patterns: readonly string[];
}[] = [
  {
    id: 'persist.shell-startup',
    title: 'writes a shell start-up file',
    attack: 'T1546.004',
    patterns: [
      '^~/\\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|zlogin|cshrc|tcshrc|kshrc|bash_logout)$',
      '^~/\\.config/fish/',
      '^/etc/(profile|bash\\.bashrc|zsh/zshrc|environment)$',
      '^/etc/profile\\.d/',
    ],
  },
  {
    id: 'persist.cron',
    title: 'installs a cron job',
    attack: 'T1053.003',
    patterns: ['^/etc/cron', '^/var/spool/cron', '^/etc/anacrontab$'],
  },
  {
    id: 'persist.systemd',
    title: 'installs a systemd unit',
    attack: 'T1543.002',
    patterns: ['^~/\\.config/systemd/', '^/etc/systemd/', '^/lib/systemd/system/', '^/usr/lib/systemd/'],
  },
  {
    id: 'persist.autostart',
    title: 'installs an autostart entry',
    attack: 'T1547.013',
    patterns: ['^~/\\.config/autostart/', '^/etc/xdg/autostart/', '^/etc/init\\.d/', '^/etc/rc\\.local$'],
  },
  {
    id: 'persist.ssh-keys',
    title: 'modifies SSH authorized keys',
    attack: 'T1098.004',
    patterns: ['^~/\\.ssh/authorized_keys2?$', '^/root/\\.ssh/authorized_keys2?$'],
  },
  {
    id: 'persist.python-startup',
    title: 'plants Python start-up code (sitecustomize, usercustomize, .pth) outside its own files',
    attack: 'T1546',
    patterns: ['/(sitecustomize|usercustomize)\\.py$', '\\.pth$'],
  },
];

/** System executables and logs: replacing or erasing them hides or hijacks. */
export const SYSTEM_BINARY_DIRS: readonly string[] = [
  '/bin/',
  '/sbin/',
  '/usr/bin/',
  '/usr/sbin/',
  '/usr/local/bin/',
  '/usr/local/sbin/',
  '/usr/lib/python3/',
  '/lib/x86_64-linux-gnu/',
  '/usr/lib/x86_64-linux-gnu/',
];

/**
 * The interpreter's standard library (`/usr/lib/python3.11/`, `/usr/local/lib/python3.12/`):
 * patching `os.py` or `site.py` there runs code in every later Python process.
 */
export const PYTHON_STDLIB_PATTERN = '^/usr/(local/)?lib/python3(\\.\\d+)?/';

export const LOG_PATTERNS: readonly string[] = [
  '^/var/log/',
  '^~/\\.(bash|zsh|sh|python)_history$',
  '^/root/\\.(bash|zsh|sh|python)_history$',
  '^/var/run/utmp$',
  '^/var/log/wtmp$',
];
