/**
 * Renders values the way strace prints them, so that bpftrace records can be fed to the strace
 * parser and TraceBehaviourBuilder unchanged (one behaviour model for both tracers).
 */

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  7: 'E2BIG',
  8: 'ENOEXEC',
  9: 'EBADF',
  10: 'ECHILD',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  26: 'ETXTBSY',
  28: 'ENOSPC',
  30: 'EROFS',
  31: 'EMLINK',
  36: 'ENAMETOOLONG',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  40: 'ELOOP',
  88: 'ENOTSOCK',
  89: 'EDESTADDRREQ',
  90: 'EMSGSIZE',
  93: 'EPROTONOSUPPORT',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN',
  101: 'ENETUNREACH',
  104: 'ECONNRESET',
  105: 'ENOBUFS',
  106: 'EISCONN',
  107: 'ENOTCONN',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
  114: 'EALREADY',
  115: 'EINPROGRESS',
  122: 'EDQUOT',
};

const SIGNALS = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];

const OPEN_FLAGS: [number, string][] = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o4000000, 'O_SYNC'],
  [0o10000000, 'O_PATH'],
  [0o20000000, 'O_TMPFILE'],
];

const CLONE_FLAGS: [number, string][] = [
  [0x100, 'CLONE_VM'],
  [0x200, 'CLONE_FS'],
  [0x400, 'CLONE_FILES'],
  [0x800, 'CLONE_SIGHAND'],
  [0x4000, 'CLONE_VFORK'],
  [0x8000, 'CLONE_PARENT'],
  [0x10000, 'CLONE_THREAD'],
  [0x20000, 'CLONE_NEWNS'],
  [0x100000, 'CLONE_SETTLS'],
  [0x200000, 'CLONE_PARENT_SETTID'],
  [0x400000, 'CLONE_CHILD_CLEARTID'],
  [0x1000000, 'CLONE_CHILD_SETTID'],
  [0x4000000, 'CLONE_NEWUTS'],
  [0x8000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'],
  [0x40000000, 'CLONE_NEWNET'],
];

const FAMILIES: Record<number, string> = {
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
};
const SOCK_TYPES: Record<number, string> = {
  1: 'SOCK_STREAM',
  2: 'SOCK_DGRAM',
  3: 'SOCK_RAW',
  5: 'SOCK_SEQPACKET',
};

export function errnoName(errno: number): string {
  return ERRNO[errno] ?? `EUNKNOWN${errno}`;
}

export function signalName(signal: number): string {
  return SIGNALS[signal] || String(signal);
}

/** `= 3`, or `= -1 ENOENT (ENOENT)` for a negative errno return. */
export function renderResult(ret: number): string {
  if (ret >= 0 || ret < -4095) return `= ${ret}`;
  const name = errnoName(-ret);
  return `= -1 ${name} (${name})`;
}

export function renderOpenFlags(flags: number): string {
  const access = flags & 3;
  const parts = [access === 1 ? 'O_WRONLY' : access === 2 ? 'O_RDWR' : 'O_RDONLY'];
  let rest = flags & ~3;
  // O_TMPFILE includes O_DIRECTORY's bit: print it once, as strace does.
  if ((rest & 0o20200000) === 0o20200000) {
    parts.push('O_TMPFILE');
    rest &= ~0o20200000;
  }
  for (const [bit, name] of OPEN_FLAGS) {
    if (rest & bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${(rest >>> 0).toString(16)}`);
  return parts.join('|');
}

export function renderCloneFlags(flags: bigint): string {
  const parts: string[] = [];
  let rest = flags & ~0xffn;
  for (const [bit, name] of CLONE_FLAGS) {
    if (rest & BigInt(bit)) {
      parts.push(name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`);
  const exitSignal = Number(flags & 0xffn);
  if (exitSignal !== 0) parts.push(signalName(exitSignal));
  return parts.length === 0 ? '0' : parts.join('|');
}

export function renderDirfd(fd: number): string {
  return fd === -100 ? 'AT_FDCWD' : String(fd);
}

export function renderSocketArgs(family: number, type: number, protocol: number): string {
  const kind = SOCK_TYPES[type & 0xf] ?? String(type & 0xf);
  const flags = [kind];
  if (type & 0o4000) flags.push('SOCK_NONBLOCK');
  if (type & 0o2000000) flags.push('SOCK_CLOEXEC');
  return `${FAMILIES[family] ?? String(family)}, ${flags.join('|')}, ${protocol}`;
}

/**
 * A strace string literal (quotes included) for bytes given as a latin1 string (one char per
 * byte): printable ASCII as is, the rest as \xNN, so decodeStraceString gets the bytes back.
 */
export function renderBytes(bytes: string, options: { truncated?: boolean } = {}): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i) & 0xff;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${out}"${options.truncated ? '...' : ''}`;
}
