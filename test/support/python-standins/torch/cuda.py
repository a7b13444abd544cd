"""Stand-in for torch.cuda."""
import os

from standin_recorder import record


class OutOfMemoryError(RuntimeError):
    pass


def is_available():
    return os.environ.get("STANDIN_NO_CUDA") != "1"


def empty_cache():
    record("torch.cuda.empty_cache")


def device_count():
    return 1 if is_available() else 0
