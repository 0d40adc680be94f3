"""Native eager kernels: the hottest hand-derived steps as plain C loops over the batch.

An eager CPU step at training batch sizes is bound by PyTorch's per-operation cost (~2-5 us per
operation), not by arithmetic. :mod:`motornet_core.kernels` already records a whole physics step as
one autograd node, but its forward and backward still run ~70 tensor operations. The C here computes
the same step in one call each way, reading the tensors' memory directly (``ctypes``; no PyTorch
headers, so it builds in well under a second).

The library is built on first use with the system C compiler (``$CC``, else ``cc``/``gcc``: the same
compiler inductor needs for compiled runs) into a per-user cache keyed by the source and flags
(``$MOTORNET_CORE_NATIVE_CACHE``, else ``~/.cache/motornet_core/native``), written atomically so that
concurrent workers share it. Floats are compiled without contraction into fused multiply-adds
(``-ffp-contract=off``) so that each operation rounds as PyTorch's elementwise operation does.

Where no compiler is found, the build fails or ``MOTORNET_CORE_NATIVE_KERNELS=0`` is set,
:func:`library` returns None (logged once) and the steps take the Python kernels instead.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_log = logging.getLogger(__name__)

SOURCES = ("point_mass.c", "gru.c", "arm26.c")
"""The C files built into the library (in this package's folder)."""

FLAGS = ("-O2", "-std=c99", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math")
"""The compiler's flags (part of the cache key)."""

ENABLED = os.environ.get("MOTORNET_CORE_NATIVE_KERNELS", "1") != "0"
"""Whether the native kernels are used where they apply (``MOTORNET_CORE_NATIVE_KERNELS``, read at import)."""

LOADED = False
"""Whether :func:`library` has loaded the library in this process (read by compiled graphs, which must
not build it while tracing: :func:`motornet_core.open_loop.compile_chunk` loads it first)."""

_lock = threading.Lock()
_state: dict[str, object] = {}


def cache_dir() -> Path:
    """Where built libraries are kept: ``$MOTORNET_CORE_NATIVE_CACHE``, else ``$XDG_CACHE_HOME`` or
    ``~/.cache``, then ``motornet_core/native``."""
    explicit = os.environ.get("MOTORNET_CORE_NATIVE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "motornet_core" / "native"


def compiler() -> str | None:
    """The C compiler to build with (``$CC``, else the first of cc, gcc, clang on the PATH), or None."""
    cc = os.environ.get("CC")
    if cc:
        return cc
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _source_bytes() -> bytes:
    here = Path(__file__).resolve().parent
    return b"".join((here / name).read_bytes() for name in SOURCES)


def library_path() -> Path:
    """The cached library's path for the current sources, flags and machine (built or not)."""
    key = hashlib.sha256(_source_bytes() + " ".join(FLAGS).encode() + platform.machine().encode()).hexdigest()[:16]
    return cache_dir() / f"motornet_native_{key}.so"


def build(path: Path | None = None) -> Path:
    """Compile the sources into ``path`` (default :func:`library_path`), atomically; returns the path.

    Raises:
        RuntimeError: no compiler, or the compiler failed (its output in the message).
    """
    path = path or library_path()
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC, or install gcc)")
    path.parent.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".so.tmp", dir=path.parent)
    os.close(fd)
    try:
        cmd = [cc, *FLAGS, "-o", tmp, *(str(here / s) for s in SOURCES), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[:2000]}")
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _declare(lib: ctypes.CDLL) -> None:
    ptr, long_, dbl = ctypes.c_void_p, ctypes.c_long, ctypes.c_double
    for suffix in ("f32", "f64"):
        fwd = getattr(lib, f"point_mass_forward_{suffix}")
        fwd.argtypes = [long_, long_, dbl] + [ptr] * 18
        fwd.restype = None
        bwd = getattr(lib, f"point_mass_backward_{suffix}")
        bwd.argtypes = [long_, long_, dbl] + [ptr] * 25
        bwd.restype = None
        arm_fwd = getattr(lib, f"arm26_forward_{suffix}")
        arm_fwd.argtypes = [long_, long_, dbl] + [ptr] * 29
        arm_fwd.restype = ctypes.c_int
        tip = getattr(lib, f"arm26_tip_{suffix}")
        tip.argtypes = [long_, ptr, long_] + [ptr] * 6
        tip.restype = None
        arm_bwd = getattr(lib, f"arm26_backward_{suffix}")
        arm_bwd.argtypes = [long_, long_, dbl] + [ptr] * 44
        arm_bwd.restype = ctypes.c_int
        gru = getattr(lib, f"gru_backward_{suffix}")
        gru.argtypes = [long_, long_] + [ptr] * 11
        gru.restype = None


def library() -> ctypes.CDLL | None:
    """The loaded native library (built on first call), or None where it is off or cannot be built."""
    if not ENABLED:
        return None
    if "lib" in _state:
        return _state["lib"]  # type: ignore[return-value]
    with _lock:
        if "lib" not in _state:
            lib: ctypes.CDLL | None = None
            try:
                path = library_path()
                if not path.exists():
                    try:
                        build(path)
                    except PermissionError:  # a read-only home: a per-user folder under the temp dir
                        path = Path(tempfile.gettempdir()) / f"motornet_core_native_{os.getuid()}" / path.name
                        if not path.exists():
                            build(path)
                    _log.info("built the native eager kernels: %s", path)
                lib = ctypes.CDLL(str(path))
                _declare(lib)
            except (OSError, RuntimeError, subprocess.SubprocessError, AttributeError) as err:
                _log.warning("native eager kernels unavailable, using the Python kernels: %s", err)
                lib = None
            _state["lib"] = lib
            global LOADED
            LOADED = lib is not None
    return _state["lib"]  # type: ignore[return-value]


def available() -> bool:
    """Whether :func:`library` gives a library (builds it on first call)."""
    return library() is not None


@contextmanager
def python_kernels() -> Iterator[None]:
    """Within the block, the steps take the Python kernels of :mod:`motornet_core.kernels` (to compare)."""
    global ENABLED
    before, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = before
