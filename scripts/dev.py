#!/usr/bin/env python3
"""Set up and run the registry on a bare machine (stdlib only: runs before anything is installed).

    python3 scripts/dev.py serve [registry serve args...]   # http://127.0.0.1:8000
    python3 scripts/dev.py test  [pytest args...]            # ruff, mypy, then pytest

Both commands install the Debian packages the documents and browser tests need (when root;
otherwise they say what to install), create `.venv` in the repository root, and install the
project into it in editable mode. The install is skipped when pyproject.toml has not changed
since the last one (a stamp file in `.venv/`), so repeated runs are fast.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".registry-install-stamp"
LOCK = VENV / ".registry-dev-lock"

# The Debian packages each command needs (the single list; names as in Debian bookworm).
DEBIAN_PACKAGES: dict[str, tuple[str, ...]] = {
    "fonts-noto-cjk": ("serve", "test"),  # Chinese fonts for the PDF documents
    "libharfbuzz-subset0": ("serve", "test"),  # font subsetting for WeasyPrint
    "poppler-utils": ("serve", "test"),  # pdftotext, used to check rendered PDFs
    "chromium": ("test",),  # browser tests
    "zbar-tools": ("test",),  # zbarimg decodes the certificate QR code in a test
}
# What `pip install -e` installs for each command; a "test" install also serves.
PIP_TARGET = {"serve": ".", "test": ".[test]"}
SATISFIES = {"serve": ("serve", "test"), "test": ("test",)}
APT_OPTIONS = ["-o", "DPkg::Lock::Timeout=300"]

USAGE = """\
usage: python3 scripts/dev.py serve [registry serve args...]
       python3 scripts/dev.py test  [pytest args...]

  serve   set up, migrate, seed demo data if the database is empty, and run the
          server on http://127.0.0.1:8000 (extra args go to `registry serve`)
  test    set up, run `ruff check .`, then `mypy`, then pytest (extra args go to
          pytest)"""


class StepFailed(Exception):
    """An expected failure: a message for the user and the exit code to leave with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def warn(message: str) -> None:
    print(f"[dev] WARNING: {message}", file=sys.stderr, flush=True)


def fmt_duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def child_env() -> dict[str, str]:
    """The caller's environment, with the venv activated (so subprocesses find `registry`)."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONHOME", None)
    return env


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    what: str | None = None,
    stdin: int | None = None,
) -> int:
    """Run a command from the repository root; raise StepFailed when it fails."""
    shown = shlex.join(str(part) for part in cmd)
    try:
        code = subprocess.call(cmd, cwd=ROOT, env=env, stdin=stdin)
    except FileNotFoundError:
        raise StepFailed(f"command not found: {cmd[0]} (while running: {shown})", 127) from None
    except PermissionError:
        raise StepFailed(f"not executable: {cmd[0]} (while running: {shown})", 126) from None
    if code != 0:
        label = f"{what} failed" if what else "command failed"
        raise StepFailed(f"{label} (exit code {code}): {shown}", code if code > 0 else 1)
    return code


# --- Debian packages -------------------------------------------------------------------------


def dpkg_installed(name: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return "install ok installed" in result.stdout


def venv_support_missing() -> bool:
    """True when this interpreter cannot create a venv with pip (Debian: no pythonX.Y-venv)."""
    importlib.invalidate_caches()
    return any(importlib.util.find_spec(name) is None for name in ("venv", "ensurepip"))


def venv_apt_package() -> str | None:
    """Debian's package providing venv/ensurepip for this interpreter, if it is Debian's."""
    if shutil.which("dpkg-query") is None or sys.prefix != "/usr":
        return None
    return f"python{sys.version_info.major}.{sys.version_info.minor}-venv"


def apt_advice(packages: list[str]) -> str:
    return "sudo apt-get install -y --no-install-recommends " + " ".join(packages)


def ensure_system_packages(mode: str) -> None:
    wanted = [name for name, modes in DEBIAN_PACKAGES.items() if mode in modes]
    need_venv_pkg = venv_apt_package() if venv_support_missing() else None

    if shutil.which("dpkg-query") is None:
        say(
            "not a Debian system (no dpkg): install these (Debian package names) yourself "
            "for PDF documents" + (" and browser tests" if mode == "test" else "") + ":"
        )
        say(f"  {apt_advice(wanted)}   (or your system's equivalents)")
        return

    missing = [name for name in wanted if not dpkg_installed(name)]
    if need_venv_pkg:
        missing.append(need_venv_pkg)
    if not missing:
        say("Debian packages: all present")
        return

    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (is_root and shutil.which("apt-get")):
        reason = "not running as root" if not is_root else "apt-get not found"
        warn(f"missing Debian packages ({reason}): {' '.join(missing)}")
        warn(f"install them with:  {apt_advice(missing)}")
        if mode == "test":
            warn("continuing; the tests that need them will be skipped and say so")
        else:
            warn("continuing; PDF documents may render without Chinese fonts")
        return

    say(f"installing Debian packages: {' '.join(missing)} (this can take a few minutes)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["update"], ["install", "-y", "--no-install-recommends", *missing]):
        try:
            run(
                ["apt-get", *APT_OPTIONS, *step],
                env=env,
                what=f"apt-get {step[0]}",
                stdin=subprocess.DEVNULL,
            )
        except StepFailed as failure:
            warn(failure.message)
    still_missing = [name for name in missing if not dpkg_installed(name)]
    if still_missing:
        warn(
            f"still missing: {' '.join(still_missing)}; install them with:  "
            f"{apt_advice(still_missing)}"
        )
        warn("continuing; the features that need them are unavailable")
    else:
        say("Debian packages: installed")


# --- virtualenv and install ------------------------------------------------------------------


def venv_python_works() -> bool:
    if not VENV_PYTHON.exists():
        return False
    result = subprocess.run(
        [str(VENV_PYTHON), "-c", "import sys"], capture_output=True, check=False
    )
    return result.returncode == 0


def lock_venv():
    """Hold an exclusive lock on the venv while setting it up (two runs at once wait)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        return None
    VENV.mkdir(exist_ok=True)
    handle = open(LOCK, "w")  # noqa: SIM115 (kept open until released)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say("another dev.py is setting up .venv; waiting for it")
        fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def create_venv() -> None:
    if venv_support_missing():
        package = venv_apt_package()
        if package:
            raise StepFailed(
                f"this Python cannot create a virtualenv (no venv/ensurepip); "
                f"install it with:  sudo apt-get install -y {package}"
            )
        raise StepFailed(
            f"this Python ({sys.executable}) cannot create a virtualenv "
            "(the venv or ensurepip module is missing); use a Python 3.11+ "
            "built with them"
        )
    if (VENV / "pyvenv.cfg").exists():
        say(".venv is broken (its python does not run); recreating it")
    for entry in VENV.iterdir() if VENV.exists() else ():
        if entry == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    say(f"creating .venv with {sys.executable} (Python {sys.version.split()[0]})")
    try:
        run([sys.executable, "-m", "venv", str(VENV)], what="creating the virtualenv")
    except StepFailed as failure:
        package = venv_apt_package()
        if package:
            failure.message += f"\n[dev] on Debian, install:  sudo apt-get install -y {package}"
        raise


def pyproject_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def install_is_current(mode: str, digest: str) -> bool:
    try:
        stamped_digest, stamped_mode = STAMP.read_text().split()[:2]
    except (OSError, ValueError):
        return False
    if stamped_digest != digest or stamped_mode not in SATISFIES[mode]:
        return False
    return (BIN / ("registry.exe" if os.name == "nt" else "registry")).exists()


def ensure_install(mode: str) -> bool:
    """Create the venv and install the project; return False when the install was skipped."""
    lock = lock_venv()
    try:
        if not venv_python_works():
            create_venv()
        digest = pyproject_hash()
        if install_is_current(mode, digest):
            say("dependencies up to date (pyproject.toml unchanged); skipping pip install")
            return False
        STAMP.unlink(missing_ok=True)
        say("upgrading pip")
        pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "--upgrade", "pip"], env=child_env(), what="upgrading pip")
        target = PIP_TARGET[mode]
        say(f'installing the project: pip install -e "{target}" (first time takes a while)')
        run([*pip, "-e", target], env=child_env(), what="pip install")
        STAMP.write_text(f"{digest} {mode}\n")
        return True
    finally:
        if lock is not None:
            lock.close()


# --- commands --------------------------------------------------------------------------------


def venv_tool(name: str) -> str:
    path = BIN / (f"{name}.exe" if os.name == "nt" else name)
    if not path.exists():
        raise StepFailed(
            f"{path.relative_to(ROOT)} is missing; delete .venv/{STAMP.name} "
            "and run again to reinstall"
        )
    return str(path)


def server_url(args: list[str]) -> str:
    host, port = "127.0.0.1", "8000"
    for index, arg in enumerate(args):
        for option in ("--host", "--port"):
            value = None
            if arg == option and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith(option + "="):
                value = arg.split("=", 1)[1]
            if value is not None:
                host, port = (value, port) if option == "--host" else (host, value)
    return f"http://{host}:{port}"


def prepare(mode: str, timings: dict[str, float]) -> None:
    """Debian packages and the virtual environment for `serve` or `test`, timed."""
    started = time.monotonic()
    ensure_system_packages(mode)
    timings["system packages"] = time.monotonic() - started

    started = time.monotonic()
    ensure_install(mode)
    timings["install"] = time.monotonic() - started


def cmd_serve(args: list[str], timings: dict[str, float]) -> int:
    prepare("serve", timings)

    registry = venv_tool("registry")
    env = child_env()
    say("migrating the database: registry migrate")
    run([registry, "migrate"], env=env, what="registry migrate")
    say("demo data: registry seed-demo --if-empty")
    run([registry, "seed-demo", "--if-empty"], env=env, what="registry seed-demo")

    total = sum(timings.values())
    say(
        f"set-up took {fmt_duration(total)}; starting the server on {server_url(args)} "
        "(Ctrl-C stops it)"
    )
    argv = [registry, "serve"]
    for option, default in (("--host", "127.0.0.1"), ("--port", "8000")):
        if not any(arg == option or arg.startswith(option + "=") for arg in args):
            argv += [option, default]
    argv += args
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ROOT)
    try:
        os.execve(registry, argv, env)
    except OSError as error:
        raise StepFailed(f"could not start the server ({error}): {shlex.join(argv)}") from None
    return 0  # not reached


def cmd_test(args: list[str], timings: dict[str, float]) -> int:
    prepare("test", timings)

    env = child_env()
    database = env.get("REGISTRY_DATABASE_URL", "")
    engine = "PostgreSQL" if database.startswith("postgresql://") else "SQLite"
    say(f"test database engine: {engine}")

    say("lint: ruff check .")
    started = time.monotonic()
    try:
        run([venv_tool("ruff"), "check", "."], env=env, what="lint (ruff check .)")
    finally:
        timings["lint"] = time.monotonic() - started

    say("types: mypy (strict on workflows/ and registry/access/, see [tool.mypy])")
    started = time.monotonic()
    try:
        run([venv_tool("mypy")], env=env, what="type check (mypy)")
    finally:
        timings["types"] = time.monotonic() - started

    pytest = [str(VENV_PYTHON), "-m", "pytest", *args]
    say(f"tests: {shlex.join(['python', '-m', 'pytest', *args])}")
    started = time.monotonic()
    try:
        code = subprocess.call(pytest, cwd=ROOT, env=env)
    finally:
        timings["tests"] = time.monotonic() - started
    if code == 5:
        raise StepFailed("no tests ran: pytest collected no tests (exit code 5)", 5)
    if code != 0:
        raise StepFailed(f"tests failed (pytest exit code {code})", code if code > 0 else 1)
    say("all tests passed")
    return 0


def print_timings(timings: dict[str, float]) -> None:
    if timings:
        say("timings: " + ", ".join(f"{name} {fmt_duration(t)}" for name, t in timings.items()))


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 (a clear message on an old python3)
        print(
            f"[dev] Python 3.11 or newer is needed (this is {sys.version.split()[0]}); "
            "on Debian 12:  sudo apt-get install python3 python3-venv",
            file=sys.stderr,
        )
        return 1
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, args = argv[0], argv[1:]
    commands = {"serve": cmd_serve, "test": cmd_test}
    if command not in commands:
        print(f"[dev] unknown command: {command}\n\n{USAGE}", file=sys.stderr)
        return 2
    if not (ROOT / "pyproject.toml").exists():
        print(
            f"[dev] no pyproject.toml in {ROOT}: is this script inside the repository?",
            file=sys.stderr,
        )
        return 1
    os.chdir(ROOT)
    timings: dict[str, float] = {}
    try:
        code = commands[command](args, timings)
    except StepFailed as failure:
        print_timings(timings)
        print(f"[dev] FAILED: {failure.message}", file=sys.stderr, flush=True)
        return failure.code
    except KeyboardInterrupt:
        print_timings(timings)
        print("\n[dev] interrupted", file=sys.stderr, flush=True)
        return 130
    print_timings(timings)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
