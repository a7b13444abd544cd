"""-l/--log: tee stdout and stderr into FILE (append), like toolkit/print.py:setup_log_to_file.

The real one calls os.makedirs on the directory part of FILE, so a bare file name fails
(ostris/ai-toolkit run.py); this fake keeps that quirk.
"""
import os
import sys


class _Tee:
    def __init__(self, stream, log):
        self.stream = stream
        self.log = log

    def write(self, data):
        self.stream.write(data)
        self.log.write(data)
        self.log.flush()
        return len(data)

    def flush(self):
        self.stream.flush()
        self.log.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def setup_log_to_file(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    log = open(path, "a", encoding="utf-8")
    sys.stdout = _Tee(sys.stdout, log)
    sys.stderr = _Tee(sys.stderr, log)
