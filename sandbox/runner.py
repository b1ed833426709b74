"""pkghunt in-sandbox runner (Python 3.11 stdlib only).

Runs as the unprivileged sandbox user inside bwrap. Phase `install` creates the venv and runs
pip; phase `import` imports each top-level module of each dependency (deepest first), then of the
installed distribution, each module in its own process. After each
step, every process still alive in the sandbox's pid namespace is recorded and killed. The result
goes to fd 3, which no child inherits, as one JSON object; the exit code is pip's (install) or 0/1
(import: all modules imported or not).
"""

import ctypes
import functools
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

VENV = "/opt/venv"
VENV_PYTHON = VENV + "/bin/python"
WORKDIR = "/builds/app"
RESULT_FD = 3
PR_SET_DUMPABLE = 4
MODULE_TIMEOUT_S = 60.0
TAIL_BYTES = 4096
NODE = "/usr/bin/node"
NPM = "/usr/bin/npm"
# npm's cache (and its logs, kept inside it) sit in the install area with node_modules, not in ~/.npm:
# they are npm's own scratch files, summarised like a venv's instead of listed one by one.
NPM_CACHE = VENV + "/.npm-cache"
NODE_MODULES = VENV + "/node_modules"


def harden():
    """Makes this process non-dumpable, so the package (same uid) cannot ptrace it or open its fds."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def open_result():
    try:
        os.set_inheritable(RESULT_FD, False)
        return os.fdopen(RESULT_FD, "w", encoding="utf-8")
    except OSError:
        return None


def log(message):
    sys.stderr.write("##[pkghunt] " + message + "\n")
    sys.stderr.flush()


def _state(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        stat = f.read()
    end = stat.rindex(b")")
    return stat[end + 2 : end + 3]


def other_pids():
    """Live processes of the pid namespace except bwrap's init (pid 1) and this runner."""
    me = os.getpid()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid in (1, me):
            continue
        try:
            if _state(pid) in (b"Z", b"X"):
                continue
        except (OSError, ValueError):
            continue
        pids.append(pid)
    return pids


def argv_of(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return []
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    if not raw:
        return []
    return [part.decode("utf-8", "backslashreplace") for part in raw.split(b"\0")]


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_others():
    """Stops, records and SIGKILLs every other process; repeats while a fork loop keeps respawning."""
    seen = {}
    for _ in range(100):
        pids = other_pids()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
        for pid in pids:
            if pid not in seen:
                seen[pid] = argv_of(pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
        reap()
    left = set(other_pids())
    return [{"pid": pid, "argv": argv, "killed": pid not in left} for pid, argv in sorted(seen.items())]


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_of(dist):
    text = dist.read_text("top_level.txt")
    names = set()
    if text:
        names.update(line.strip() for line in text.splitlines())
    else:
        for path in dist.files or []:
            parts = path.parts
            head = parts[0] if parts else ""
            if head in ("..", "__pycache__") or head.endswith((".dist-info", ".egg-info", ".data")):
                continue
            if len(parts) == 1:
                if head.endswith(".py"):
                    names.add(head[:-3])
                elif head.endswith((".so", ".pyd")):
                    names.add(head.split(".")[0])
            elif parts[-1].endswith((".py", ".so")):
                names.add(head)
    return sorted(n for n in names if n.isidentifier())


@functools.cache
def _venv_distributions():
    """The venv's distributions, read once per run (every caller runs after pip has exited)."""
    import glob
    from importlib import metadata

    sites = glob.glob(VENV + "/lib/python3*/site-packages")
    return tuple(metadata.distributions(path=sites)) if sites else ()


@functools.cache
def _meta(dist):
    """A distribution's METADATA, parsed once (importlib re-reads and re-parses it on every access)."""
    return dist.metadata


def _name(dist):
    return _meta(dist)["Name"] or ""


def _version(dist):
    return _meta(dist)["Version"] or ""


def _describe(dist):
    return {"name": _name(dist), "version": _version(dist), "top_level": top_level_of(dist)}


def find_distribution(wanted):
    """Reads the installed distribution's metadata from the venv's files, without running its code."""
    dists = _venv_distributions()
    chosen = None
    if wanted:
        for dist in dists:
            if normalize(_name(dist)) == normalize(wanted):
                chosen = dist
    if chosen is None and len(dists) == 1:
        chosen = dists[0]
    if chosen is None:
        return None
    return _describe(chosen)


def installed_distributions():
    """Every distribution pip put in the venv (it starts empty: the package and its dependency closure)."""
    return sorted(
        ({"name": _name(d), "version": _version(d)} for d in _venv_distributions()),
        key=lambda d: normalize(d["name"]),
    )


def _required_names(dist):
    names = []
    for line in dist.requires or []:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match:
            names.append(normalize(match.group(1)))
    return names


def dependencies_in_import_order(wanted):
    """The venv's other distributions, each after the ones it requires (deepest first), so a
    dependency's import-time behaviour shows first in its own process (docs/RECORD.md, Attribution)."""
    by_name = {}
    for dist in _venv_distributions():
        name = normalize(_name(dist))
        if name and name != normalize(wanted or ""):
            by_name[name] = dist
    ordered = []
    state = {}

    def visit(name):
        if state.get(name) is not None:
            return
        state[name] = "visiting"
        for required in sorted(_required_names(by_name[name])):
            if required in by_name:
                visit(required)
        state[name] = "done"
        ordered.append(_describe(by_name[name]))

    for name in sorted(by_name):
        visit(name)
    return ordered


def remaining(deadline):
    return max(0.0, deadline - time.monotonic())


def wait_for(proc, timeout):
    """proc.wait(timeout) without Popen's polling, which sleeps in steps of up to 50 ms (25 ms lost
    per wait on average): poll() on a pidfd wakes when the process exits. Raises TimeoutExpired."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return proc.wait(timeout=timeout)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(fd)
    return proc.wait()


def run_installer(cmd, cwd, deadline, result):
    """Runs pip or npm until the phase's deadline; on timeout every other process of the sandbox
    is killed, `timed_out` is set and the exit code is None."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL)
    try:
        return wait_for(proc, remaining(deadline))
    except subprocess.TimeoutExpired:
        result["timed_out"] = True
        kill_others()
        proc.wait()
        return None


class Steps:
    """Wall time of each step of the phase, in ms, for the host's profile (never in the record)."""

    def __init__(self, result):
        self.timings = result["timings"]
        self.last = time.monotonic()

    def lap(self, name):
        now = time.monotonic()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self.last) * 1000, 1)
        self.last = now


def pip_command():
    """The system pip, run by the venv's interpreter: what `pip --python VENV` does itself (it
    re-runs pip's __pip-runner__.py under that interpreter), without the first pip process, whose
    start-up (a third of a small wheel's install) did nothing else. Where pip has no runner file,
    `-m pip --python` as before."""
    # The runner runs with -I -S: the site directories are not on its path; look there for pip.
    try:
        import importlib.machinery
        import site

        spec = importlib.machinery.PathFinder.find_spec("pip", site.getsitepackages())
    except (ImportError, ValueError, AttributeError):
        spec = None
    if spec is not None and spec.origin:
        runner = os.path.join(os.path.dirname(spec.origin), "__pip-runner__.py")
        if os.path.exists(runner):
            return [VENV_PYTHON, runner]
    return [sys.executable, "-m", "pip", "--python", VENV_PYTHON]


def install(args, deadline, result):
    steps = Steps(result)
    if not os.path.exists(VENV_PYTHON):
        import venv  # only the install phase needs it: the import phase starts quicker without

        venv.create(VENV, with_pip=False, symlinks=True)
    log("venv ready")
    steps.lap("venv")
    cmd = pip_command() + [
        "install",
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        # Byte-compiling the installed files runs none of their code: it only costs CPU (a third of
        # a large wheel's install). The import phase compiles what it imports.
        "--no-compile",
    ]
    cmd += ["--no-index"] if args.no_index else ["--index-url", args.index_url]
    cmd.append(args.target)
    log("pip install " + args.target)
    code = run_installer(cmd, WORKDIR, deadline, result)
    log("pip exited with %s" % code)
    steps.lap("pip")
    if not result["timed_out"]:
        result["survivors"] = kill_others()
    steps.lap("reap")
    result["exit_code"] = code
    result["distribution"] = find_distribution(args.distribution)
    result["installed"] = installed_distributions()
    try:
        # What the import phase will import, read now from the same venv (nothing runs between the
        # phases): the host hands it over, and the import phase starts without importlib.metadata.
        plan = {"distribution": result["distribution"], "dependencies": dependencies_in_import_order(args.distribution)}
        result["import_plan"] = plan
    except Exception:  # noqa: BLE001 - the import phase then reads the venv itself, as before
        pass
    steps.lap("inspect")
    return 1 if code is None else code


def _pump(stream, tail):
    """Streams a child's stderr through while keeping its tail (for the error line)."""
    while True:
        chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not chunk:
            return
        os.write(2, chunk)
        tail[0] = (tail[0] + chunk)[-TAIL_BYTES:]


def run_probe(argv, cwd, timeout):
    """Runs one import probe in its own process, its stderr streamed through: returns its status
    (ok, error, timeout), the non-blank lines of its stderr tail, its exit code and the processes
    it left behind (killed)."""
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tail = [b""]
    pump = threading.Thread(target=_pump, args=(proc.stderr, tail), daemon=True)
    pump.start()
    status = "ok"
    try:
        if wait_for(proc, timeout) != 0:
            status = "error"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = "timeout"
    # A daemon the import left behind may hold the stderr pipe open: kill it before draining.
    survivors = kill_others()
    pump.join(timeout=1.0)
    lines = [line for line in tail[0].decode("utf-8", "replace").splitlines() if line.strip()]
    return status, lines, proc.returncode, survivors


def import_one(module, timeout):
    started = time.monotonic()
    status, lines, returncode, survivors = run_probe([VENV_PYTHON, "-c", "import " + module], WORKDIR, timeout)
    error = None
    if status == "error":
        error = lines[-1] if lines else "exit code %d" % returncode
    elif status == "timeout":
        error = "import did not finish within %.1f s" % timeout
    outcome = {
        "module": module,
        "status": status,
        "error": error,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return outcome, survivors


def read_plan(path):
    """The install phase's import plan as the host put it under /pkghunt (read-only here), or None."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(plan, dict) or not isinstance(plan.get("dependencies"), list) or "distribution" not in plan:
        return None
    return plan


def import_dependencies(args, deadline, result, dependencies=None):
    """Stage 1: each dependency's top-level modules, each in its own process, before the package.
    They get at most half of the time left, so a slow dependency cannot starve the package; their
    failures do not fail the phase (the package's import is what is analysed)."""
    stage_deadline = time.monotonic() + remaining(deadline) / 2
    if dependencies is None:
        dependencies = dependencies_in_import_order(args.distribution)
    for dep in dependencies:
        for module in dep["top_level"]:
            left = remaining(stage_deadline)
            if left <= 0:
                return
            outcome, survivors = import_one(module, min(MODULE_TIMEOUT_S, left))
            outcome["distribution"] = normalize(dep["name"])
            result["modules"].append(outcome)
            result["survivors"].extend(survivors)


def import_phase(args, deadline, result):
    steps = Steps(result)
    plan = args.plan_data if args.plan_data is not None else read_plan(args.plan)
    dist = plan["distribution"] if plan is not None else find_distribution(args.distribution)
    result["distribution"] = dist
    steps.lap("inspect")
    if dist is None:
        result["error"] = "no installed distribution %s found in the venv" % (args.distribution or "")
        result["exit_code"] = 2
        return 2
    import_dependencies(args, deadline, result, plan["dependencies"] if plan is not None else None)
    steps.lap("dependency-imports")
    failed = False
    for module in dist["top_level"]:
        left = remaining(deadline)
        if left <= 0:
            result["timed_out"] = True
            break
        outcome, survivors = import_one(module, min(MODULE_TIMEOUT_S, left))
        result["modules"].append(outcome)
        result["survivors"].extend(survivors)
        failed = failed or outcome["status"] != "ok"
        if outcome["status"] == "timeout" and remaining(deadline) <= 0:
            result["timed_out"] = True
            break
    steps.lap("imports")
    code = 1 if failed else 0
    result["exit_code"] = code
    return code


def npm_packages():
    """Every package npm put in node_modules (nested and scoped ones too), from their package.json."""
    found = []
    for root, dirs, files in os.walk(NODE_MODULES):
        dirs[:] = [d for d in dirs if d != ".bin" and not d.startswith(".")]
        parent = os.path.dirname(root)
        scoped = os.path.basename(parent).startswith("@") and os.path.basename(os.path.dirname(parent)) == "node_modules"
        if "package.json" not in files or not (os.path.basename(parent) == "node_modules" or scoped):
            continue
        try:
            with open(os.path.join(root, "package.json"), encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("name"), str):
            found.append({"name": manifest["name"], "version": str(manifest.get("version") or ""), "path": root})
    return sorted(found, key=lambda p: (p["name"], p["path"]))


def npm_manifest(name):
    try:
        with open(os.path.join(NODE_MODULES, name, "package.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        return manifest if isinstance(manifest, dict) else None
    except (OSError, ValueError):
        return None


def npm_install(args, deadline, result):
    os.makedirs(NPM_CACHE, exist_ok=True)
    app = os.path.join(VENV, "package.json")
    if not os.path.exists(app):
        with open(app, "w", encoding="utf-8") as f:
            json.dump({"name": "app", "version": "1.0.0", "private": True}, f)
    cmd = [
        NODE,
        NPM,
        "install",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--foreground-scripts",
        "--registry",
        args.index_url,
        "--cache",
        NPM_CACHE,
        args.target,
    ]
    log("npm install " + args.target)
    code = run_installer(cmd, VENV, deadline, result)
    log("npm exited with %s" % code)
    if not result["timed_out"]:
        result["survivors"] = kill_others()
    result["exit_code"] = code
    packages = npm_packages()
    result["installed"] = [{"name": p["name"], "version": p["version"]} for p in packages]
    manifest = npm_manifest(args.distribution) if args.distribution else None
    if manifest is not None:
        result["distribution"] = {"name": args.distribution, "version": str(manifest.get("version") or ""), "top_level": []}
    return 1 if code is None else code


def npm_entry_points(name, manifest):
    """The probes for a package: require() of its CommonJS entry, dynamic import() of its entry, and
    import() of its `module` file (what bundlers load) when it names another file."""
    exports = manifest.get("exports")
    has_entry = "main" in manifest or exports is not None or os.path.exists(os.path.join(NODE_MODULES, name, "index.js"))
    probes = []
    if not has_entry:
        return probes
    esm_only = manifest.get("type") == "module" and "require" not in json.dumps(exports or {})
    if not esm_only:
        probes.append(("require(%s)" % json.dumps(name), "require(%s)" % json.dumps(name)))
    probes.append(("import(%s)" % json.dumps(name), "await import(%s)" % json.dumps(name)))
    module = manifest.get("module")
    if isinstance(module, str) and module.strip() and module != manifest.get("main"):
        path = os.path.normpath(os.path.join(NODE_MODULES, name, module))
        if path.startswith(os.path.join(NODE_MODULES, name) + "/"):
            probes.append(("import(%s)" % json.dumps(name + "/" + module.lstrip("./")), "await import(%s)" % json.dumps(path)))
    return probes


def npm_probe(label, code, timeout):
    """One entry point in its own node process, like import_one: `node -e` (CommonJS) or
    `node --input-type=module -e` (ES module, for dynamic import)."""
    started = time.monotonic()
    argv = [NODE, "--input-type=module", "-e", code] if code.startswith("await ") else [NODE, "-e", code]
    status, lines, returncode, survivors = run_probe(argv, VENV, timeout)
    error = None
    if status == "error":
        named = [line for line in lines if re.match(r"^\w*Error\b|^\w+Error:", line.strip())]
        error = (named or lines or ["exit code %d" % returncode])[0].strip()
    elif status == "timeout":
        error = "did not finish within %.1f s" % timeout
    outcome = {"module": label, "status": status, "error": error, "duration_ms": round((time.monotonic() - started) * 1000, 1)}
    return outcome, survivors


def npm_import_phase(args, deadline, result):
    manifest = npm_manifest(args.distribution)
    if manifest is None:
        result["error"] = "no installed package %s found in node_modules" % (args.distribution or "")
        result["exit_code"] = 2
        return 2
    result["distribution"] = {"name": args.distribution, "version": str(manifest.get("version") or ""), "top_level": []}
    failed = False
    for label, code in npm_entry_points(args.distribution, manifest):
        left = remaining(deadline)
        if left <= 0:
            result["timed_out"] = True
            break
        outcome, survivors = npm_probe(label, code, min(MODULE_TIMEOUT_S, left))
        result["modules"].append(outcome)
        result["survivors"].extend(survivors)
        failed = failed or outcome["status"] != "ok"
    code = 1 if failed else 0
    result["exit_code"] = code
    return code


class Args:
    """The runner's arguments, as the host's createSandbox passes them."""

    def __init__(self):
        self.phase = None
        self.target = None
        self.index_url = ""
        self.no_index = False
        self.distribution = ""
        self.deadline_ms = 300000
        self.ecosystem = "pypi"
        self.plan = ""
        self.then_import = False
        self.import_deadline_ms = 300000
        # Two phases in one launch: the install phase's import plan, kept in this process's memory.
        self.plan_data = None


_VALUED = {
    "--target": "target",
    "--index-url": "index_url",
    "--distribution": "distribution",
    "--deadline-ms": "deadline_ms",
    "--ecosystem": "ecosystem",
    "--plan": "plan",
    "--import-deadline-ms": "import_deadline_ms",
}


def usage_error(message):
    sys.stderr.write(
        "usage: runner.py {install,import} --target T [--index-url URL | --no-index] [--distribution D]"
        " [--deadline-ms MS] [--ecosystem {pypi,npm}] [--plan FILE] [--then-import [--import-deadline-ms MS]]"
        "\nrunner.py: error: %s\n" % message
    )
    sys.exit(2)


def parse_args(argv):
    """argparse's job for this fixed set of options, without importing it: argparse and what it
    pulls in were ~10 ms of every phase's start under the tracer. Errors exit 2, as argparse's do."""
    args = Args()
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        if arg == "--no-index":
            args.no_index = True
        elif arg == "--then-import":
            args.then_import = True
        elif name in _VALUED:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                usage_error("argument %s: expected one argument" % name)
            setattr(args, _VALUED[name], value)
        elif args.phase is None and not arg.startswith("-"):
            args.phase = arg
        else:
            usage_error("unrecognized arguments: %s" % arg)
        i += 1
    if args.phase not in ("install", "import"):
        usage_error("argument phase: invalid choice: %r (choose from 'install', 'import')" % args.phase)
    if args.ecosystem not in ("pypi", "npm"):
        usage_error("argument --ecosystem: invalid choice: %r (choose from 'pypi', 'npm')" % args.ecosystem)
    if args.target is None:
        usage_error("the following arguments are required: --target")
    for name in ("deadline_ms", "import_deadline_ms"):
        try:
            setattr(args, name, int(getattr(args, name)))
        except ValueError:
            usage_error("argument --%s: invalid int value: %r" % (name.replace("_", "-"), getattr(args, name)))
    if args.then_import and args.phase != "install":
        usage_error("argument --then-import: only with the install phase")
    return args


def new_result(phase):
    return {
        "phase": phase,
        "exit_code": None,
        "timed_out": False,
        "survivors": [],
        "modules": [],
        "distribution": None,
        "installed": [],
        "error": None,
        "timings": {},
    }


def run_phase(phase, args, deadline, result):
    """One phase's work; anything unexpected still ends in a result (exit code 70)."""
    started = time.time()
    try:
        if args.ecosystem == "npm":
            code = (npm_install if phase == "install" else npm_import_phase)(args, deadline, result)
        elif phase == "install":
            code = install(args, deadline, result)
        else:
            code = import_phase(args, deadline, result)
    except Exception as error:  # noqa: BLE001
        result["error"] = "runner failed: %s: %s" % (type(error).__name__, error)
        code = 70
    result["timings"]["started"] = started
    result["timings"]["ended"] = time.time()
    return code


def write_result(out, result, line=False):
    """The result as one JSON object; `line`: then a newline, which tells the host of a two-phase
    launch that the first phase's result is whole (fd 3 itself stays open in the launcher)."""
    if out is not None:
        out.write(json.dumps(result) + ("\n" if line else ""))
        out.flush()
        out.close()


def finish(code):
    sys.stdout.flush()
    sys.stderr.flush()
    # Nothing is left to flush or clean up: skip the interpreter's finalisation (module teardown,
    # thread joins), a few ms of every phase's end under the tracer.
    os._exit(code if 0 <= code < 256 else 1)


# Two phases in one launch (`install --then-import`), what the host's runInstallThenImport expects:
# fds 1, 2, 3 are the install phase's stdout, stderr and result; 4, 5 the import phase's stdout and
# stderr; 6 a socket: the host's go-ahead comes in on it, the import phase's result goes out on it.
IMPORT_STDOUT_FD = 4
IMPORT_STDERR_FD = 5
CONTROL_FD = 6
# Opened (it does not exist) by this process between the phases: the host splits the trace there.
PHASE_MARK = "/pkghunt/.phase-import"


def then_import(args, out, install_code, install_result):
    """After a completed install phase: marks the boundary, hands the install phase's output and
    result over (closing them tells the host they are complete), waits for the host's go-ahead,
    then runs the import phase on fds 4, 5, 6."""
    try:
        os.close(os.open(PHASE_MARK, os.O_RDONLY))
    except OSError:
        pass
    write_result(out, install_result, line=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(IMPORT_STDOUT_FD, 1)
    os.dup2(IMPORT_STDERR_FD, 2)
    os.close(IMPORT_STDOUT_FD)
    os.close(IMPORT_STDERR_FD)
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = os.read(CONTROL_FD, 64)
        if not chunk:
            break
        answer += chunk
    if answer.strip() != b"go":
        return install_code
    args.plan_data = install_result.get("import_plan")
    deadline = time.monotonic() + args.import_deadline_ms / 1000.0
    result = new_result("import")
    code = run_phase("import", args, deadline, result)
    with os.fdopen(CONTROL_FD, "w", encoding="utf-8") as control:
        control.write(json.dumps(result))
    return code


def main():
    harden()
    out = open_result()
    args = parse_args(sys.argv[1:])
    if args.then_import:
        # The package runs in the install phase: none of the import phase's fds may reach it.
        try:
            for fd in (IMPORT_STDOUT_FD, IMPORT_STDERR_FD, CONTROL_FD):
                os.set_inheritable(fd, False)
        except OSError:
            log("--then-import without fds 4-6: the install phase only")
            args.then_import = False
    deadline = time.monotonic() + args.deadline_ms / 1000.0
    result = new_result(args.phase)
    code = run_phase(args.phase, args, deadline, result)
    if args.then_import:
        # The import phase follows only a completed install, as when the host runs them one by one.
        proceed = code == 0 and not result["timed_out"] and result["error"] is None
        result["then_import"] = proceed
        if proceed:
            finish(then_import(args, out, code, result))
    write_result(out, result, line=args.then_import)
    finish(code)


if __name__ == "__main__":
    main()
