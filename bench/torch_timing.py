"""Timing helpers shared by the PyTorch benchmark scripts (the Python twin of bench_util.h)."""
import os
import statistics
import time

import torch


def median_seconds(fn, repeats, calls=1, warmup=2):
    """Median seconds per call over `repeats` timed batches of `calls` calls, after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def setup():
    """Uses the same thread count as tinynn; returns the label printed in front of each result."""
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    return f"torch_{torch.__version__.split('+')[0]}"
