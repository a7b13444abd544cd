"""Stand-in PIL.Image: a solid-colour RGB image that saves as a real PNG."""
import struct
import zlib


def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


class Image:
    def __init__(self, mode, size, color):
        if mode != "RGB":
            raise ValueError("stand-in PIL supports mode RGB only")
        self.mode = mode
        self.size = (int(size[0]), int(size[1]))
        self.width, self.height = self.size
        self.color = tuple(color)

    def _png(self):
        width, height = self.size
        row = b"\x00" + bytes(self.color) * width
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(row * height, 6)) + _chunk(b"IEND", b"")

    def save(self, fp, format=None, **params):  # noqa: A002 - the real parameter name
        if format is None and isinstance(fp, str):
            format = "PNG" if fp.lower().endswith(".png") else None
        if format is None:
            raise ValueError("unknown file extension")
        if format.upper() != "PNG":
            raise NotImplementedError(f"stand-in PIL writes PNG only, asked for {format}")
        data = self._png()
        if isinstance(fp, str):
            with open(fp, "wb") as handle:
                handle.write(data)
        else:
            fp.write(data)


def new(mode, size, color=0):
    if isinstance(color, int):
        color = (color, color, color)
    return Image(mode, size, color)


def open(fp, mode="r"):  # noqa: A001 - the real function's name
    """Reads a PNG's size from its IHDR chunk; the pixels become one mid-grey colour."""
    if isinstance(fp, str):
        import builtins

        with builtins.open(fp, "rb") as handle:
            head = handle.read(24)
    else:
        head = fp.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise OSError("stand-in PIL opens PNG files only")
    width, height = struct.unpack(">II", head[16:24])
    return _Opened((width, height))


class _Opened(Image):
    def __init__(self, size):
        super().__init__("RGB", size, (128, 128, 128))

    def convert(self, mode):
        if mode not in ("RGB", "L"):
            raise ValueError(f"stand-in PIL converts to RGB or L only, not {mode}")
        return self
