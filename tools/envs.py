#!/usr/bin/env python3
"""Create or reuse the project's two Python environments, keyed on the lock files.

Standard library only: this runs on the bare system Python of a fresh machine.

Layout (the cache lives outside the clone so CI and later sessions reuse it):

    $AIOS_CACHE_DIR (default ~/.cache/aios)/
        envs/main-<key>/     third-party packages of the main environment (requirements/main.lock)
        envs/rasa-<key>/     Rasa 3.6.21 and its pins (requirements/rasa*.lock)
        wheels/llama-<key>/  the llama-cpp-python wheel built for this CPU / accelerator

    Debian packages the tests drive (headless Chromium and its matching chromedriver) are
    installed with apt-get when missing; that needs root (CI runs as root).

    <clone>/.venv            a small venv: the project installed editable, the main packages
                             added through a .pth file, the Temporal binaries linked in
    <clone>/.venv-rasa       a symlink to the Rasa environment

Each cached environment is built in place and marked complete only at the end; an incomplete
one (interrupted install) is removed and rebuilt. A file lock keeps two concurrent runs
(e.g. CI and a developer) from building the same environment twice.

Usage: python3 tools/envs.py ensure | lock | paths
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQ = ROOT / "requirements"
PYVER = f"{sys.version_info.major}.{sys.version_info.minor}"
COMPLETE = ".aios-complete"
LLAMA_PKG = "llama-cpp-python"
LLAMA_RECORD = ".aios-llama.json"


def log(msg: str) -> None:
    print(f"[envs] {msg}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    return Path(os.environ.get("AIOS_CACHE_DIR", Path.home() / ".cache" / "aios")).expanduser()


def sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def run(cmd: list[str], **kw) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def canonical_pin(line: str) -> str:
    """`Foo_Bar==1.0` -> `foo-bar==1.0` (PEP 503 names, as the rest of this file looks them up)."""
    name, sep, version = line.partition("==")
    return re.sub(r"[-_.]+", "-", name).lower() + sep + version


def read_lock(name: str) -> list[str]:
    lines = []
    for line in (REQ / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


# --- accelerator and CPU -----------------------------------------------------------------------


def _load_native():
    """assistant/native.py, loaded by path: the project is not installed yet when this runs."""
    spec = importlib.util.spec_from_file_location("aios_native", ROOT / "assistant" / "native.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


native = _load_native()


def cuda_wanted() -> bool:
    """AIOS_LLAMA_CUDA=on|off|auto (default auto: on when an NVIDIA driver answers)."""
    mode = os.environ.get("AIOS_LLAMA_CUDA", "auto").lower()
    if mode in ("1", "on", "true", "yes"):
        return True
    if mode in ("0", "off", "false", "no"):
        return False
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def llama_variants() -> list:
    """The llama.cpp builds to try on this machine, best first (see assistant/native.py)."""
    return native.llama_variants(flags=native.cpu_flags(), amx=native.amx_granted(),
                                 user_args=os.environ.get("CMAKE_ARGS", ""), cuda=cuda_wanted())


def cpu_signature() -> str:
    """The main environment holds a llama.cpp build for this CPU's instruction set: key on it."""
    return sha(platform.machine(), " ".join(sorted(native.cpu_flags())))


# --- building ----------------------------------------------------------------------------------


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "w")
        t0 = time.monotonic()
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() - t0 > 5:
                    log(f"waiting for another install holding {self.path} ...")
                    t0 = time.monotonic() + 55
                time.sleep(2)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def ensure_cached_env(name: str, key: str, build) -> Path:
    env = cache_dir() / "envs" / f"{name}-{key}"
    if (env / COMPLETE).exists():
        return env
    with FileLock(cache_dir() / "locks" / f"{name}-{key}.lock"):
        if (env / COMPLETE).exists():
            return env
        if env.exists():
            log(f"removing incomplete environment {env}")
            shutil.rmtree(env)
        log(f"building {name} environment in {env} (first time only; keyed on the lock files)")
        t0 = time.monotonic()
        run([sys.executable, "-m", "venv", env])
        run([env / "bin/python", "-m", "pip", "install", "-q", "--upgrade", "pip==26.3", "wheel"])
        build(env)
        (env / COMPLETE).write_text(json.dumps({"key": key, "built": time.time()}))
        log(f"{name} environment ready in {time.monotonic() - t0:.0f}s")
    return env


def llama_version() -> str:
    return next(line for line in read_lock("main.lock") if line.lower().startswith(LLAMA_PKG + "=="))


def llama_wheel_dir(variant) -> Path:
    """Where the wheel of one build variant is cached: keyed on exactly what was built."""
    return cache_dir() / "wheels" / f"llama-{sha(llama_version(), variant.cmake, PYVER)}"


def build_llama_wheel(py: Path, variant) -> Path:
    """The wheel of `variant`, built from the sdist the first time (about 8 minutes on 2 cores)."""
    wdir = llama_wheel_dir(variant)
    if list(wdir.glob("llama_cpp_python-*.whl")):
        return next(wdir.glob("llama_cpp_python-*.whl"))
    with FileLock(cache_dir() / "locks" / (wdir.name + ".lock")):
        if not list(wdir.glob("llama_cpp_python-*.whl")):
            env = dict(os.environ, CMAKE_ARGS=variant.cmake)
            log(f"building {llama_version()} ({variant.name}) from source, about 8 minutes on "
                f"2 cores; CMAKE_ARGS={variant.cmake!r}")
            tmp = wdir.with_name(wdir.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and would hand back a wheel
            # built for another instruction set or accelerator.
            run([py, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", tmp,
                 llama_version()], env=env)
            (tmp / "variant.json").write_text(json.dumps(
                {"name": variant.name, "cmake_args": list(variant.cmake_args)}))
            tmp.rename(wdir)
    return next(wdir.glob("llama_cpp_python-*.whl"))


def install_wheel(py: Path, wheel: Path) -> None:
    run([py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel])


def smoke_llama(py: Path, variant):
    return native.run_smoke(py, "llama", variant=variant.name)


def ensure_llama(env: Path, *, variants=None, build=build_llama_wheel, install=install_wheel,
                 smoke=smoke_llama) -> dict:
    """Give `env` a llama.cpp build that has generated text on this machine.

    Each variant is built (or taken from the cache), installed and made to load the shipped model
    and generate a few tokens in a child process; a crash, a hang or an error moves on to the next,
    safer variant. What was chosen, and on which host it proved itself, is recorded in the
    environment: a cached environment taken to another machine is proven again there.
    """
    record_path = env / LLAMA_RECORD
    host = native.host_signature()
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("host") == host:
            return record
    py = env / "bin/python"
    failures: list[str] = []
    with FileLock(cache_dir() / "locks" / (env.name + "-llama.lock")):
        for variant in variants if variants is not None else llama_variants():
            install(py, build(py, variant))
            result = smoke(py, variant)
            if result.ok:
                record = {"variant": variant.name, "cmake_args": list(variant.cmake_args),
                          "host": host, "cpu": native.cpu_model(), "smoke": result.detail,
                          "system_info": result.data.get("system_info", ""),
                          "fallbacks": failures, "proven": time.time()}
                record_path.write_text(json.dumps(record, indent=2))
                log(f"llama.cpp {variant.name} build generates text on this machine "
                    f"({result.detail})")
                return record
            failures.append(f"{variant.name}: {result.detail}")
            log(f"llama.cpp {variant.name} build failed its smoke check ({result.detail}); "
                "trying the next, safer feature set")
    raise SystemExit("[envs] no llama.cpp build runs on this machine: " + "; ".join(failures))


LLAMA_SERVER_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_SERVER=ON", "-DBUILD_SHARED_LIBS=OFF",
    # The server's web page is not ours to serve, and fetching its prebuilt assets needs the internet.
    "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_BUILD_UI=OFF",
)


def ensure_llama_server(env: Path, record: dict) -> Path:
    """llama.cpp's own `llama-server`, from the llama.cpp sources inside the llama-cpp-python sdist the
    lock pins, built with the CMake options the Python build proved on this machine (`record`), and
    proven here itself (it serves one chat completion of the shipped model) before it is used.

    Cached by the sources and the options (about 8 minutes on 2 cores the first time); linked into the
    environment's bin/ (and so into the clone's .venv/bin) as `llama-server`.
    """
    root = cache_dir() / "llama-server" / sha(llama_version(), *record["cmake_args"], *LLAMA_SERVER_OPTIONS)
    binary = root / "bin" / "llama-server"
    proof = root / ".aios-proven.json"
    host = native.host_signature()
    with FileLock(cache_dir() / "locks" / (root.name + "-server.lock")):
        if not binary.exists():
            build_llama_server(root, record["cmake_args"])
        if not (proof.exists() and json.loads(proof.read_text()).get("host") == host):
            result = native.run_smoke(env / "bin/python", "llama-server", binary=binary)
            if not result.ok:
                raise SystemExit(f"[envs] llama-server does not run on this machine: {result.detail}")
            proof.write_text(json.dumps({"host": host, "smoke": result.detail, "proven": time.time()}))
            log(f"llama-server serves the model on this machine ({result.detail})")
    link = env / "bin" / "llama-server"
    if not (link.is_symlink() and link.resolve() == binary.resolve()):
        link.unlink(missing_ok=True)
        link.symlink_to(binary)
    return binary


def build_llama_server(root: Path, cmake_args: list[str]) -> None:
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"building llama-server from the {llama_version()} sdist (about 8 minutes on 2 cores)")
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "-d", tmp / "sdist",
         llama_version()])
    sdist = next((tmp / "sdist").glob("*.tar.gz"))
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if "/vendor/llama.cpp/" in m.name]
        archive.extractall(tmp / "src", members=members, filter="data")
    source = next((tmp / "src").glob("*/vendor/llama.cpp"))
    run(["cmake", "-S", source, "-B", tmp / "build", *LLAMA_SERVER_OPTIONS, *cmake_args])
    run(["cmake", "--build", tmp / "build", "--target", "llama-server", "-j", str(os.cpu_count() or 2)])
    # Linked statically (BUILD_SHARED_LIBS=OFF): the binary is all that is kept.
    (tmp / "bin").mkdir()
    shutil.copy2(tmp / "build" / "bin" / "llama-server", tmp / "bin" / "llama-server")
    for part in ("src", "sdist", "build"):
        shutil.rmtree(tmp / part)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)


def ensure_native_checks(env: Path, checks: tuple[str, ...]) -> None:
    """The other native code an environment loads at start must run here too (no fallback)."""
    record_path = env / ".aios-native.json"
    host = native.host_signature()
    if record_path.exists() and json.loads(record_path.read_text()).get("host") == host:
        return
    results = {}
    for check in checks:
        result = native.run_smoke(env / "bin/python", check)
        if not result.ok:
            raise SystemExit(f"[envs] {check} does not run on this machine: {result.detail}. "
                             f"Environment: {env}")
        log(f"{check} runs on this machine ({result.detail})")
        results[check] = result.detail
    record_path.write_text(json.dumps({"host": host, "checks": results}, indent=2))


def build_main(env: Path) -> None:
    py = env / "bin/python"
    lock = read_lock("main.lock")
    torch = [line for line in lock if line.startswith("torch==")]
    # torch first: it must come from the CPU wheel on disk, not a multi-GB CUDA build.
    run([py, "-m", "pip", "install", "-q", "--no-deps", *torch])
    # llama-cpp-python is built per variant and proven by ensure_llama, after this.
    rest = env / "requirements-without-llama.txt"
    rest.write_text("\n".join(line for line in lock if not line.lower().startswith(LLAMA_PKG + "==")))
    run([py, "-m", "pip", "install", "-q", "--no-deps", "-r", rest])
    run([py, "-m", "pip", "install", "-q", "--no-deps", "-r", REQ / "main-nodeps.lock"])


def build_rasa(env: Path) -> None:
    py = env / "bin/python"
    run([py, "-m", "pip", "install", "-q", "-r", REQ / "rasa.lock"])
    run([py, "-m", "pip", "install", "-q", "--no-deps", "--ignore-requires-python",
         "-r", REQ / "rasa-nodeps.lock"])


def main_key() -> str:
    return sha((REQ / "main.lock").read_bytes(), (REQ / "main-nodeps.lock").read_bytes(),
               PYVER, cpu_signature(), os.environ.get("CMAKE_ARGS", ""), str(cuda_wanted()))


def rasa_key() -> str:
    return sha((REQ / "rasa.lock").read_bytes(), (REQ / "rasa-nodeps.lock").read_bytes(), PYVER)


def site_packages(env: Path) -> Path:
    return env / "lib" / f"python{PYVER}" / "site-packages"


def ensure_project_venv(deps: Path) -> None:
    """The clone's own .venv: cheap to create, so each clone has its own editable install."""
    venv = ROOT / ".venv"
    marker = venv / COMPLETE
    want = sha(str(deps), (ROOT / "pyproject.toml").read_bytes())
    if marker.exists() and marker.read_text() == want:
        link_binaries(deps, venv)
        return
    if venv.exists():
        shutil.rmtree(venv)
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    # An `import` line in a .pth file runs at start-up; addsitedir also processes the .pth files
    # of the cached environment (editable installs, namespace packages).
    (site_packages(venv) / "_aios_deps.pth").write_text(
        f"import site; site.addsitedir({str(site_packages(deps))!r})\n"
    )
    run([venv / "bin/python", "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-e", ROOT])
    link_binaries(deps, venv)
    marker.write_text(want)


def link_binaries(deps: Path, venv: Path) -> None:
    """The programs the services run, from the cached environment into the clone's .venv/bin."""
    for binary in ("temporal", "temporal-test-server", "llama-server"):
        src, dst = deps / "bin" / binary, venv / "bin" / binary
        if src.exists() and not (dst.is_symlink() and dst.readlink() == src):
            dst.unlink(missing_ok=True)
            dst.symlink_to(src)


def ensure_rasa_link(rasa_env: Path) -> None:
    link = ROOT / ".venv-rasa"
    if link.is_symlink() and link.resolve() == rasa_env.resolve():
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(rasa_env)


# Debian packages and the file each one provides (a glob where the path holds a version): the
# browser tests drive Debian's Chromium through its own chromedriver (same version by construction;
# nothing downloads a browser); the scale profile and the store tests start PostgreSQL and Redis.
SYSTEM_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "chromium-driver": "/usr/bin/chromedriver",
    "postgresql": "/usr/lib/postgresql/*/bin/initdb",
    "redis-server": "/usr/bin/redis-server",
    # the OpenID provider the sign-in tests run (oidc-provider) and axe-core: see ensure_node_packages
    "nodejs": "/usr/bin/node",
    "npm": "/usr/bin/npm",
}
NODE_DIR = ROOT / "tools" / "node"


def ensure_system_packages(packages: dict[str, str] = SYSTEM_PACKAGES) -> None:
    """Install the missing Debian packages with apt-get (root only; otherwise say what is missing)."""
    missing = [name for name, path in packages.items() if not glob.glob(path)]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        log(f"missing Debian packages {' '.join(missing)}: run `make env` as root on Debian, or "
            f"`apt-get install {' '.join(missing)}`; the browser, PostgreSQL and Redis tests fail without them")
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(f"installing Debian packages: {' '.join(missing)}")
    try:
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
    except subprocess.CalledProcessError:  # stale package lists on a fresh machine
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


def ensure_node_packages() -> None:
    """tools/node's packages (package-lock.json, exactly) in the cache, linked as tools/node/node_modules.

    Keyed by the lock file, installed with `npm ci --ignore-scripts` (no package runs code at
    install time) into a temporary directory that is renamed into place when complete.
    """
    npm = shutil.which("npm")
    if npm is None:
        log("npm is missing: the sign-in and accessibility tests need Node.js (`make env` as root installs it)")
        return
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    target = cache_dir() / "node" / sha(lock, (NODE_DIR / "package.json").read_bytes())
    if not (target / "node_modules").is_dir():
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NODE_DIR / name, tmp / name)
        log(f"installing Node packages for the tests into {target}")
        run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=tmp)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    link = NODE_DIR / "node_modules"
    if link.is_symlink() and link.resolve() == (target / "node_modules").resolve():
        return
    if link.is_symlink() or link.exists():
        link.unlink() if link.is_symlink() else shutil.rmtree(link)
    link.symlink_to(target / "node_modules")


def cmd_ensure(args: argparse.Namespace) -> None:
    if not args.no_system_packages:
        ensure_system_packages()
    deps = ensure_cached_env("main", main_key(), build_main)
    record = ensure_llama(deps)
    ensure_llama_server(deps, record)
    ensure_native_checks(deps, ("embedder", "chroma"))
    ensure_project_venv(deps)
    ensure_node_packages()
    if not args.main_only:
        rasa_env = ensure_cached_env("rasa", rasa_key(), build_rasa)
        ensure_native_checks(rasa_env, ("tensorflow",))
        ensure_rasa_link(rasa_env)


def cmd_lock(args: argparse.Namespace) -> None:
    """Resolve requirements/main.in afresh into requirements/main.lock (a full pin set)."""
    scratch = cache_dir() / "lock-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    run([sys.executable, "-m", "venv", scratch])
    py = scratch / "bin/python"
    run([py, "-m", "pip", "install", "-q", "--upgrade", "pip==26.3"])
    inreq = [line for line in (REQ / "main.in").read_text().splitlines()]
    torch = [line.strip() for line in inreq if line.strip().startswith("torch==")]
    run([py, "-m", "pip", "install", "-q", *torch])
    wheel = build_llama_wheel(py, llama_variants()[0])
    run([py, "-m", "pip", "install", "-q", "--find-links", wheel.parent, "-r", REQ / "main.in"])
    frozen = subprocess.run([py, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    skip = ("pip==", "setuptools==", "wheel==", "torch==")
    # Canonical names (pip freeze may spell llama-cpp-python as llama_cpp_python); torch stays as
    # main.in pins it (freeze adds the local "+cpu" of the build on disk).
    pins = sorted([canonical_pin(line) for line in frozen if not line.startswith(skip)] + torch, key=str.lower)
    header = "# Generated by `python3 tools/envs.py lock` from main.in. Do not edit by hand.\n"
    (REQ / "main.lock").write_text(header + "\n".join(pins) + "\n")
    shutil.copy(REQ / "main-nodeps.in", REQ / "main-nodeps.lock")
    log(f"wrote {len(pins)} pins to requirements/main.lock")


def cmd_paths(args: argparse.Namespace) -> None:
    print(json.dumps({
        "main": str(cache_dir() / "envs" / f"main-{main_key()}"),
        "rasa": str(cache_dir() / "envs" / f"rasa-{rasa_key()}"),
        "llama_variants": [{"name": v.name, "cmake": v.cmake, "wheels": str(llama_wheel_dir(v))}
                           for v in llama_variants()],
    }, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ensure", help="create or reuse both environments")
    p.add_argument("--main-only", action="store_true", help="skip the Rasa environment")
    p.add_argument("--no-system-packages", action="store_true",
                   help="install no Debian packages (a container image: its servers run in their own images)")
    p.set_defaults(func=cmd_ensure)
    sub.add_parser("lock", help="re-resolve requirements/main.in").set_defaults(func=cmd_lock)
    sub.add_parser("paths", help="print where the environments live").set_defaults(func=cmd_paths)
    args = parser.parse_args()
    try:
        args.func(args)
    except subprocess.CalledProcessError as exc:
        log(f"command failed with exit code {exc.returncode}: {' '.join(map(str, exc.cmd))}")
        sys.exit(1)


if __name__ == "__main__":
    main()
