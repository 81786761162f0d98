"""Choosing the torch device from a user's `--device` value."""

from __future__ import annotations

from typing import Callable

import torch

from .errors import ReelganError

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    """Whether Apple's Metal backend can be used."""
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(name: str) -> torch.device:
    """`auto` picks CUDA, then MPS, then the CPU; an unknown or unavailable device is a ReelganError."""
    if name not in DEVICE_NAMES:
        raise ReelganError(f"--device must be one of {', '.join(DEVICE_NAMES)}; got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ReelganError("--device cuda but no CUDA GPU is visible; use --device cpu or auto")
    if name == "mps" and not mps_available():
        raise ReelganError("--device mps but MPS is not available; use --device cpu or auto")
    return torch.device(name)



def configure_cpu_determinism(flush_denormal: bool = True) -> bool:
    """Put every CPU thread torch computes on into the same, fixed numerical state; call it before training.

    - The intra-op thread count is pinned (`torch.set_num_threads` with its current value). Besides OpenMP's
      team size this turns MKL's dynamic thread adjustment off, which torch leaves on until the thread count
      is set explicitly; Intel's conditions for run-to-run reproducible results ask for it off.
    - Denormal floats are flushed to zero (or not) on the calling thread and on every worker thread: see
      `set_flush_denormal`, and why `torch.set_flush_denormal` alone is not enough.

    Returns whether every thread got the denormal mode asked for.
    """
    torch.set_num_threads(torch.get_num_threads())
    return set_flush_denormal(flush_denormal)


def set_flush_denormal(enabled: bool) -> bool:
    """`torch.set_flush_denormal(enabled)` on the calling thread AND on every intra-op worker thread.

    Flush-to-zero is a per-thread CPU flag (FTZ/DAZ in x86's MXCSR). `torch.set_flush_denormal` sets it on
    the calling thread only, and OpenMP workers copy it from their creator when they are created: workers
    made by an earlier parallel op in the process (another run, a test, a notebook cell) keep computing with
    denormals while the calling thread flushes them, so the part of an op that a worker computes comes out
    differently from a process whose workers were created after the call. This runs the call once on each
    thread of the OpenMP team that torch's ops use from the calling thread, then checks the result with a
    multi-threaded op. Returns False where the CPU has no such mode or the workers could not be reached
    (then only the calling thread is set, as `torch.set_flush_denormal` does).
    """
    # torch._C.set_flush_denormal is torch.set_flush_denormal, reached so that a patched torch attribute
    # (benchmarks/determinism.py replays the old behaviour that way) cannot recurse into this function.
    if not torch._C.set_flush_denormal(enabled):  # the calling thread; False where the CPU lacks the mode
        return False
    threads = torch.get_num_threads()
    if threads > 1:
        _on_each_openmp_thread(lambda: torch._C.set_flush_denormal(enabled), threads)
    return denormal_flush_share() == (1.0 if enabled else 0.0)


def denormal_flush_share() -> float:
    """The share of a multi-threaded op's denormal results flushed to zero: 1.0 on every thread, 0.0 on none.

    With two threads, 0.5 means one thread flushes and the other does not.
    """
    chunk = 1 << 16  # above torch's grain size (32768 elements), so each thread takes a share of the op
    tiny = torch.full((chunk * max(torch.get_num_threads(), 1),), 1e-30) * 1e-10  # 1e-40: denormal in float32
    return float((tiny == 0).float().mean())


def _on_each_openmp_thread(function: Callable[[], object], threads: int) -> None:
    """Call `function()` once on each thread of an OpenMP team of `threads` (GNU libgomp's GOMP_parallel).

    Nothing happens when torch does not thread with OpenMP or its runtime has no GOMP entry points.
    """
    import ctypes

    if "OpenMP" not in torch.__config__.parallel_info():
        return
    try:
        runtime = ctypes.CDLL(None)  # the process's global symbols: torch loads its OpenMP runtime globally
        parallel = runtime.GOMP_parallel
    except (AttributeError, OSError):
        return
    parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    callback = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _data: function())
    # ctypes releases the GIL for the call, so each thread of the team can take it to run the callback.
    parallel(ctypes.cast(callback, ctypes.c_void_p), None, threads, 0)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AMX or AVX512-BF16: recent Xeons, some AMD Zen 4+).

    Elsewhere (most laptops' CPUs) bf16 autocast is emulated and slower than float32.
    """
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" becomes "bf16" on a CPU with native bfloat16, else "fp32"; "fp32" and "bf16" stay as given.

    On a 2-core Xeon with AMX, bf16 autocast made a DCGAN step about 2x faster than float32
    (benchmarks/RESULTS.md); on an H100 these small networks were launch-bound and bf16 gained nothing, so
    "auto" keeps GPUs in float32.
    """
    if precision != "auto":
        return precision
    return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"
