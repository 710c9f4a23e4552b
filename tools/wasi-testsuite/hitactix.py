"""Runtime adapter for WebAssembly/wasi-testsuite's test runner: each test runs as a
process on the emulated board's BSD kernel, through `hitactix bsd exec`.

    python3 run-tests -r /path/to/this/checkout/tools/wasi-testsuite/hitactix.py

HITACTIX may name the command (default: node and this checkout's bin/hitactix.js).
A test's "root" directory becomes the program's preopened "/" (--dir: copied onto the
system disk, and the program's changes copied back when it ends); a test without one
runs with no preopened directory (--no-root), as under wasmtime without --dir.
"""
import os
import shlex
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

_ROOT = Path(__file__).resolve().parents[2]
HITACTIX = shlex.split(os.getenv("HITACTIX", f"node {shlex.quote(str(_ROOT / 'bin' / 'hitactix.js'))}"))


def get_name() -> str:
    return "hitactix"


def get_version() -> str:
    result = subprocess.run(HITACTIX + ["--version"], encoding="UTF-8", capture_output=True, check=True)
    return result.stdout.strip().split()[-1]


def get_wasi_versions() -> List[str]:
    return ["wasm32-wasip1"]


def get_wasi_worlds() -> List[str]:
    return ["wasi:cli/command"]


def get_timeout_seconds() -> float:
    # A program is instrumented (metering, asyncify) the first time it runs: ~5 s for
    # a Rust test, then cached in build/cache/instrument.
    return 120.0


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    args, env, root = args_env_root
    argv = HITACTIX + ["bsd", "exec"]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    argv += ["--dir", str(root)] if root else ["--no-root"]
    argv += ["--", test_path] + list(args)
    return argv
