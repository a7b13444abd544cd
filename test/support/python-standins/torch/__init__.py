"""Stand-in for the parts of `torch` that headshot_generate.py and the diffusers stand-in use."""
from standin_recorder import record

from . import cuda  # noqa: F401  (torch.cuda is a submodule in the real package too)
from .cuda import OutOfMemoryError  # torch >= 2.5 exposes torch.OutOfMemoryError as well

__version__ = "2.5.0+standin"


class dtype:
    def __init__(self, name):
        self.name = name
        self.itemsize = {"bfloat16": 2, "float16": 2, "float32": 4, "float64": 8, "int8": 1, "uint8": 1}[name]

    def __repr__(self):
        return f"torch.{self.name}"


bfloat16 = dtype("bfloat16")
float16 = dtype("float16")
float32 = dtype("float32")
float64 = dtype("float64")
int8 = dtype("int8")
uint8 = dtype("uint8")

_DTYPES = {"BF16": bfloat16, "F16": float16, "F32": float32, "F64": float64, "I8": int8, "U8": uint8}


class device:
    def __init__(self, type_, index=None):
        self.type = str(type_).split(":")[0]
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


class Tensor:
    """Shape and dtype only; enough for LoRA key conversion (chunk) and for recording."""

    def __init__(self, shape, dtype_=float32):
        self.shape = tuple(shape)
        self.dtype = dtype_

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self):
        return f"Tensor(shape={list(self.shape)}, dtype={self.dtype!r})"


def chunk(input, chunks, dim=0):  # noqa: A002 - the real parameter name
    length = input.shape[dim]
    size = -(-length // chunks)
    pieces = []
    start = 0
    while start < length:
        end = min(start + size, length)
        shape = list(input.shape)
        shape[dim] = end - start
        pieces.append(Tensor(shape, input.dtype))
        start = end
    return tuple(pieces)


class Generator:
    def __init__(self, device="cpu"):  # noqa: A002 - the real parameter name
        self.device = device if isinstance(device, str) else str(device)
        self._seed = None

    def manual_seed(self, seed):
        if not isinstance(seed, int):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self._seed = seed
        record("torch.Generator.manual_seed", device=self.device, seed=seed)
        return self

    def initial_seed(self):
        return 67280421310721 if self._seed is None else self._seed
