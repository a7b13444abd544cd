#!/usr/bin/env python3
"""A fake headshot_generate.py (standard library only) that speaks the same line protocol, so the Node
side can be tested against crashes, OOM, slow loads, garbage lines and a child that never gets ready.

Same command line as src/generation/local/headshot_generate.py. Switches (environment):
  FAKE_GEN_RECORD=<file>          append {"argv": [...], "env": {...}} and every stdin line received
  FAKE_GEN_LOAD_SECONDS=<s>       slow load, with a loading line every 0.1 s
  FAKE_GEN_DOWNLOAD_SECONDS=<s>   a download: only a \r-redrawn progress bar on stderr, no newline
  FAKE_GEN_NEVER_READY=1          print one loading line, then hang silently
  FAKE_GEN_LOAD_ERROR=<code>      emit {"type":"error","code":<code>} while loading, exit 3
  FAKE_GEN_IMPORT_FAIL=1          die like a Python without torch (traceback on stderr, exit 1)
  FAKE_GEN_GARBAGE=1              mix non-protocol lines into stdout
  FAKE_GEN_STEP_SECONDS=<s>       time per denoising step
  FAKE_GEN_OOM_ON_JOB=<n>[,<m>]   the n-th job answers an oom error; the process keeps serving
  FAKE_GEN_CRASH_ON_JOB=<n>       the n-th job dies after one step with a traceback, exit 1
  FAKE_GEN_KILL_SELF_ON_JOB=<n>   the n-th job SIGKILLs itself (like the kernel OOM killer)
  FAKE_GEN_IGNORE_TERM=1          ignore SIGTERM, shutdown lines and end of stdin (tests SIGKILL escalation)
"""
import json
import os
import select
import signal
import struct
import sys
import time
import zlib


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def raw(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def record(entry):
    path = os.environ.get("FAKE_GEN_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def ints(name):
    return {int(x) for x in os.environ.get(name, "").split(",") if x.strip()}


def png(width, height, seed):
    color = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = (b"\x00" + color * width) * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def stdin_lines():
    """Byte-at-a-time reads, so nothing is buffered ahead and select() tells what Node has sent."""
    line = b""
    while True:
        byte = os.read(0, 1)
        if not byte:
            return
        line += byte
        if byte == b"\n":
            yield line.decode("utf-8")
            line = b""


def arg(name, default=None):
    argv = sys.argv[1:]
    return argv[argv.index(name) + 1] if name in argv else default


def main():
    record({"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in ("PYTHONUNBUFFERED", "CUDA_VISIBLE_DEVICES")}})
    if os.environ.get("FAKE_GEN_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: (emit({"type": "bye"}), os._exit(143)))
    if os.environ.get("FAKE_GEN_IMPORT_FAIL") == "1":
        sys.stderr.write('Traceback (most recent call last):\n  File "headshot_generate.py", line 1, in <module>\n'
                         "ModuleNotFoundError: No module named 'torch'\n")
        return 1
    garbage = os.environ.get("FAKE_GEN_GARBAGE") == "1"
    if garbage:
        raw("Loading pipeline components...:   0%|          | 0/7 [00:00<?, ?it/s]")
        raw('{"unexpected": true}')
    emit({"type": "loading", "message": "fake: loading"})
    sys.stderr.write("fake: loading model\n")
    sys.stderr.flush()
    if os.environ.get("FAKE_GEN_NEVER_READY") == "1":
        while True:
            time.sleep(1)
    download = float(os.environ.get("FAKE_GEN_DOWNLOAD_SECONDS", "0"))
    started = time.monotonic()
    while time.monotonic() - started < download:
        time.sleep(0.1)
        percent = int(100 * (time.monotonic() - started) / download)
        sys.stderr.write(f"\rdiffusion_pytorch_model.safetensors: {min(percent, 100)}%|###     | 2.1G/23.8G")
        sys.stderr.flush()
    if download:
        sys.stderr.write("\n")
    deadline = time.monotonic() + float(os.environ.get("FAKE_GEN_LOAD_SECONDS", "0"))
    while time.monotonic() < deadline:
        time.sleep(0.1)
        emit({"type": "loading", "message": "fake: still loading"})
    code = os.environ.get("FAKE_GEN_LOAD_ERROR")
    if code:
        sys.stderr.write(f"fake: load failed with {code}\n")
        emit({"type": "error", "code": code, "message": f"fake {code} while loading"})
        return 3
    emit({"type": "ready", "model": arg("--model"), "device": arg("--device", "cuda"), "offload": arg("--offload", "none"),
          "quantize": arg("--quantize", "none")})

    step_seconds = float(os.environ.get("FAKE_GEN_STEP_SECONDS", "0"))
    count = 0
    for line in stdin_lines():
        record({"stdin": line.rstrip("\n")})
        message = json.loads(line)
        if message["type"] == "shutdown":
            if os.environ.get("FAKE_GEN_IGNORE_TERM") == "1":
                continue
            break
        count += 1
        job_id = message["id"]
        if count in ints("FAKE_GEN_OOM_ON_JOB"):
            emit({"type": "progress", "id": job_id, "step": 1, "total": message["steps"]})
            sys.stderr.write("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n")
            emit({"type": "error", "id": job_id, "code": "oom", "message": "CUDA out of memory. Tried to allocate 2.00 GiB"})
            continue
        width, height = message["width"] // 16 * 16, message["height"] // 16 * 16
        for step in range(1, message["steps"] + 1):
            time.sleep(step_seconds)
            emit({"type": "progress", "id": job_id, "step": step, "total": message["steps"]})
            if garbage and step == 1:
                raw("100%|##########| 28/28 [00:09<00:00,  2.95it/s]")
            if step == 1 and count in ints("FAKE_GEN_CRASH_ON_JOB"):
                sys.stderr.write('Traceback (most recent call last):\n  File "pipeline_flux.py", line 900, in __call__\n'
                                 "RuntimeError: CUDA error: an illegal memory access was encountered\n")
                sys.stderr.flush()
                os._exit(1)
            if step == 1 and count in ints("FAKE_GEN_KILL_SELF_ON_JOB"):
                os.kill(os.getpid(), signal.SIGKILL)
        # Unbuffered stdin: anything readable now was sent while this job was still running.
        if select.select([0], [], [], 0)[0]:
            record({"overlap": job_id})
        out = message["out"]
        os.makedirs(os.path.dirname(out), exist_ok=True)
        temp = os.path.join(os.path.dirname(out), ".headshot-tmp-" + os.path.basename(out))
        with open(temp, "wb") as handle:
            handle.write(png(width, height, message["seed"]))
        os.replace(temp, out)
        emit({"type": "image", "id": job_id, "path": out, "width": width, "height": height, "seed": message["seed"]})
    if os.environ.get("FAKE_GEN_IGNORE_TERM") == "1":
        while True:  # stuck, as a process inside a CUDA call can be
            time.sleep(1)
    emit({"type": "bye"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
