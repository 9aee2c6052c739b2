import logging
import os
import random
import re

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from hepflows.core import runtime


@pytest.fixture
def restore_threads(monkeypatch):
    for var in runtime._THREAD_ENV_VARS:
        monkeypatch.setenv(var, os.environ.get(var, ""))
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    runtime._blas_limiter = None


def test_configure_threads_sets_torch_env_and_blas(restore_threads):
    runtime.configure_threads(1)
    assert torch.get_num_threads() == 1
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        assert os.environ[var] == "1"
    assert runtime._blas_limiter is not None
    pools = threadpool_info()
    assert all(p["num_threads"] == 1 for p in pools)


def test_configure_threads_survives_late_interop_call(restore_threads):
    # Parallel work has already happened in this process, so interop setting may raise.
    torch.ones(1000).sum()
    runtime.configure_threads(2)
    runtime.configure_threads(1)
    assert torch.get_num_threads() == 1


def test_configure_threads_rejects_zero():
    with pytest.raises(ValueError):
        runtime.configure_threads(0)


def test_resolve_device_cpu_and_auto():
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.resolve_device("auto").type == expected


def test_resolve_device_cuda_unavailable(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        runtime.resolve_device("cuda")
    assert runtime.resolve_device("auto") == torch.device("cpu")


def test_resolve_device_unknown():
    with pytest.raises(ValueError, match="unknown device"):
        runtime.resolve_device("tpu")


def test_seed_everything_reproduces_all_rngs():
    def draw():
        return (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002

    runtime.seed_everything(123)
    first = draw()
    runtime.seed_everything(123)
    assert draw() == first
    runtime.seed_everything(124)
    assert draw() != first


def test_setup_logging_file_and_stderr(tmp_path, capsys):
    path = tmp_path / "logs" / "job.log"
    log = runtime.setup_logging(path, name="hepflows.test_runtime")
    log.info("first message")
    # Second setup must append, not truncate, and not duplicate handlers.
    log = runtime.setup_logging(path, name="hepflows.test_runtime")
    log.info("second message")
    for h in log.handlers:
        h.flush()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO first message$", lines[0])
    assert lines[1].endswith("INFO second message")
    err = capsys.readouterr().err
    assert "INFO first message" in err and "INFO second message" in err
    assert err.count("second message") == 1


def test_setup_logging_without_file(capsys):
    log = runtime.setup_logging(None, name="hepflows.test_runtime_nofile")
    assert all(not isinstance(h, logging.FileHandler) for h in log.handlers)
    log.info("hello")
    assert "INFO hello" in capsys.readouterr().err


def test_torch_imported_after_configure_threads_is_pinned_too():
    """Steps that import torch late (or never) still get the rule's thread count."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):\n"
        "    os.environ.pop(v, None)\n"
        "from hepflows.core.runtime import configure_threads\n"
        "configure_threads(1)\n"
        "assert 'torch' not in sys.modules\n"
        "import torch\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
