"""The fake sd_trainer process: milestones, dataset scan, tqdm bar, saves, samples, resume."""
import glob
import json
import math
import os
import struct
import sys
import time

from toolkit.mini_yaml import dump_yaml

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")
RESUME_EXCLUDE = ("_LoRA", "_refiner", "_t2i", "_cn")
GATED = ("black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.2-dev", "black-forest-labs/FLUX.2-klein-base-9B")
# A 1x1 white JPEG, so sample files are real images.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbfcffd9"
)


def print_acc(*args, **kwargs):
    print(*args, **kwargs)


class GatedRepoError(Exception):
    pass


class OutOfMemoryError(RuntimeError):
    pass


def env_int(name):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def format_interval(t):
    mins, s = divmod(int(t), 60)
    h, m = divmod(mins, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Bar:
    """tqdm's default meter: '{desc}: {pct:3.0f}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{, postfix}]'.

    Bar width 10 (no terminal width through a pipe); written to stderr as '\\r' + line, padded
    over the previous line; leave=True ends with '\\n', leave=False clears the line.
    """

    def __init__(self, total, desc=None, initial=0, leave=True, unit="it"):
        self.total, self.desc, self.n, self.leave, self.unit = total, desc, initial, leave, unit
        self.initial = initial
        self.start = time.time()
        self.paused_at = None
        self.paused_total = 0.0
        self.postfix = ""
        self.last_len = 0
        self.ascii = os.environ.get("FAKE_AITK_ASCII") == "1"
        self.display()

    def elapsed(self):
        now = self.paused_at if self.paused_at is not None else time.time()
        return now - self.start - self.paused_total

    def pause(self):
        self.paused_at = time.time()

    def unpause(self):
        if self.paused_at is not None:
            self.paused_total += time.time() - self.paused_at
            self.paused_at = None

    def bar(self, frac):
        width = 10
        if self.ascii:
            filled = int(frac * width)
            return ("#" * filled).ljust(width)
        full, part = divmod(int(frac * width * 8), 8)
        chars = " ▏▎▍▌▋▊▉"
        text = "█" * full + (chars[part] if part and full < width else "")
        return text.ljust(width)

    def line(self):
        elapsed = self.elapsed()
        done = self.n - self.initial
        rate = done / elapsed if done > 0 and elapsed > 0 else None
        prefix = f"{self.desc}: " if self.desc else ""
        if self.total:
            frac = self.n / self.total
            remaining = format_interval((self.total - self.n) / rate) if rate else "?"
            if rate:
                inv = 1 / rate
                rate_fmt = f"{inv:5.2f}s/{self.unit}" if inv > 1 else f"{rate:5.2f}{self.unit}/s"
            else:
                rate_fmt = f"?{self.unit}/s"
            postfix = f", {self.postfix}" if self.postfix else ""
            return f"{prefix}{frac * 100:3.0f}%|{self.bar(frac)}| {self.n}/{self.total} [{format_interval(elapsed)}<{remaining}, {rate_fmt}{postfix}]"
        rate_fmt = f"{rate:5.2f}{self.unit}/s" if rate else f"?{self.unit}/s"
        return f"{prefix}{self.n}{self.unit} [{format_interval(elapsed)}, {rate_fmt}]"

    def display(self):
        text = self.line()
        sys.stderr.write("\r" + text + " " * max(self.last_len - len(text), 0))
        sys.stderr.flush()
        self.last_len = len(text)

    def set_postfix_str(self, text):
        self.postfix = text

    def update(self, k=1):
        self.n += k
        self.display()

    def close(self):
        if self.leave:
            self.display()
            sys.stderr.write("\n")
        else:
            sys.stderr.write("\r" + " " * self.last_len + "\r")
        sys.stderr.flush()


def write_safetensors(path, metadata):
    """A real (tiny) safetensors file: header length, JSON header with __metadata__, tensor data."""
    tensor = b"\x00\x00\x80\x3f"  # one float32 1.0
    header = {
        "__metadata__": {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in metadata.items()},
        "transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": {"dtype": "F32", "shape": [1, 1], "data_offsets": [0, 4]},
    }
    data = json.dumps(header, separators=(",", ":")).encode("utf-8")
    data += b" " * ((8 - len(data) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(data)) + data + tensor)
    os.replace(tmp, path)


def read_safetensors_metadata(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)).get("__metadata__", {})


class FakeSDTrainer:
    def __init__(self, job, config):
        self.job = job
        self.config = config
        self.name = job.name
        print_acc(json.dumps(config, indent=4))
        if "training_folder" not in config:
            raise KeyError("training_folder")
        self.training_folder = config["training_folder"]
        self.save_root = os.path.join(self.training_folder, self.name)
        self.train = config.get("train", {}) or {}
        self.save = config.get("save", {}) or {}
        self.sample = config.get("sample", {}) or {}
        self.model = config.get("model", {}) or {}
        self.network = config.get("network", {}) or {}
        self.datasets = config.get("datasets", []) or []
        self.trigger_word = config.get("trigger_word")
        if "name_or_path" not in self.model:
            raise ValueError("model.name_or_path is required")
        self.steps = int(self.train.get("steps", 1000))
        self.save_every = int(self.save.get("save_every", 1000))
        self.max_saves = int(self.save.get("max_step_saves_to_keep", 5))
        self.sample_every = int(self.sample.get("sample_every", 100))
        self.disable_sampling = bool(self.train.get("disable_sampling", False))
        self.skip_first_sample = bool(self.train.get("skip_first_sample", False))
        self.lr = float(self.train.get("lr", 1e-6))
        if (self.train.get("ema_config") or {}).get("use_ema"):
            print_acc("Using EMA")
        self.step_num = 0
        self.bar = None

    # -- helpers --------------------------------------------------------------------------------
    def model_version(self):
        arch = self.model.get("arch")
        if arch:
            return "flux2" if arch == "flux2" else arch
        return "flux.1" if self.model.get("is_flux") else "sd_1.5"

    def metadata(self, step):
        meta = {k: str(v).replace("[name]", self.name) for k, v in (self.job.meta or {}).items()}
        meta.update(
            {
                "training_info": {"step": step, "epoch": 0},
                "ss_base_model_version": self.model_version(),
                "ss_output_name": self.name,
                "ss_tag_frequency": {"1_dataset": {self.trigger_word or "": 1}},
                "software": {"name": "ai-toolkit", "repo": "https://github.com/ostris/ai-toolkit", "version": "0.12.26"},
                "format": "pt",
            }
        )
        return meta

    def sleep(self, seconds):
        time.sleep(seconds)

    # -- phases ---------------------------------------------------------------------------------
    def load_model(self):
        name_or_path = self.model["name_or_path"]
        if os.environ.get("FAKE_AITK_GATED") == "1" and not os.environ.get("HF_TOKEN"):
            repo = name_or_path
            raise GatedRepoError(
                f"401 Client Error. (Request ID: Root=1-6789abcd-0123456789abcdef01234567;fake)\n\n"
                f"Cannot access gated repo for url https://huggingface.co/{repo}/resolve/main/transformer/config.json.\n"
                f"Access to model {repo} is restricted. You must have access to it and be authenticated to access it. Please log in."
            )
        if self.model.get("arch"):
            print_acc(f"Loading {self.model['arch']} model")
        else:
            print_acc("Loading Flux model")
        print_acc("Loading transformer")
        if self.model.get("quantize"):
            print_acc("Quantizing transformer")
            if os.environ.get("FAKE_AITK_OOM_ON_LOAD") == "1":
                raise OutOfMemoryError(
                    "CUDA out of memory. Tried to allocate 72.00 MiB. GPU 0 has a total capacity of 23.64 GiB of which 50.31 MiB is free. "
                    "Including non-PyTorch memory, this process has 23.57 GiB memory in use. Of the allocated memory 22.91 GiB is allocated by PyTorch, "
                    "and 212.44 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting "
                    "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation."
                )
        print_acc("Loading VAE")
        print_acc("Loading T5")
        if self.model.get("quantize_te", self.model.get("quantize")):
            print_acc("Quantizing T5")
        print_acc("Loading CLIP")
        print_acc("Making pipe")
        print_acc("Preparing Model")

    def scan_datasets(self):
        for ds in self.datasets:
            path = ds.get("folder_path")
            print_acc(f"Dataset: {path}")
            print_acc("  -  Preprocessing image dimensions")
            files = []
            if path and os.path.isdir(path):
                for root, dirs, names in os.walk(path):
                    dirs[:] = [d for d in dirs if not d.startswith(".") and d != "_controls" and not d.startswith("_latent")]
                    for n in sorted(names):
                        if not n.startswith(".") and n.lower().endswith(IMAGE_EXTS):
                            files.append(os.path.join(root, n))
            bar = Bar(len(files), desc=None, leave=True)
            for _ in files:
                bar.update(1)
            bar.close()
            if len(files) == 0:
                raise AssertionError(f"no images found in {path}")
            print_acc(f"  -  Found {len(files)} images")
            resolutions = ds.get("resolution", 512)
            if not isinstance(resolutions, list):
                resolutions = [resolutions]
            with open(os.path.join(path, ".aitk_size.json"), "w", encoding="utf-8") as f:
                json.dump({os.path.basename(p): [1024, 1024] for p in files}, f)
            for res in resolutions:
                print_acc(f"Bucket sizes for {path}:")
                print_acc(f"{res}x{res}: {len(files)} files")
                print_acc("1 buckets made")
                print_acc(f"Caching latents for {path}")
                print_acc(" - Saving latents to disk")
                cache = os.path.join(path, "_latent_cache")
                os.makedirs(cache, exist_ok=True)
                bar = Bar(len(files), desc="Caching latents to disk", leave=True)
                for p in files:
                    stem = os.path.splitext(os.path.basename(p))[0]
                    target = os.path.join(cache, f"{stem}_{res}.safetensors")
                    if not os.path.exists(target):
                        write_safetensors(target, {})
                    bar.update(1)
                bar.close()

    def find_resume(self):
        # newest by ctime of <name>*.safetensors / .pt / directories, skipping _LoRA & co (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py)
        candidates = []
        for p in glob.glob(os.path.join(glob.escape(self.save_root), glob.escape(self.name) + "*")):
            base = os.path.basename(p)
            if any(x in base for x in RESUME_EXCLUDE):
                continue
            if os.path.isdir(p) or base.endswith(".safetensors") or base.endswith(".pt"):
                candidates.append(p)
        if not candidates:
            return None
        return max(candidates, key=lambda p: os.stat(p).st_ctime_ns)

    def save_checkpoint(self, step, final=False):
        if self.bar:
            self.bar.pause()
        print_acc(f"\nSaving at step {step}")
        target = os.path.join(self.save_root, f"{self.name}.safetensors" if final else f"{self.name}_{step:09d}.safetensors")
        write_safetensors(target, self.metadata(step))
        print_acc(f"Saved checkpoint to {target}")
        opt = os.path.join(self.save_root, "optimizer.pt")
        with open(opt + ".tmp", "wb") as f:
            f.write(b"fake optimizer state " + str(step).encode())
        os.replace(opt + ".tmp", opt)
        print_acc(f"Saved optimizer to {opt}")
        if not final:
            saves = [p for p in glob.glob(os.path.join(glob.escape(self.save_root), glob.escape(self.name) + "_*.safetensors"))]
            saves.sort(key=lambda p: os.stat(p).st_ctime_ns)
            for old in saves[: max(0, len(saves) - self.max_saves)]:
                print_acc(f"Removing old save: {old}")
                os.remove(old)
        if self.bar:
            self.bar.unpause()

    def sample_images(self, step):
        prompts = [s["prompt"] if isinstance(s, dict) else s for s in (self.sample.get("samples") or [])] or list(self.sample.get("prompts") or [])
        if not prompts:
            return
        if self.bar:
            self.bar.pause()
        folder = os.path.join(self.save_root, "samples")
        os.makedirs(os.path.join(folder, ".tmp"), exist_ok=True)
        bar = Bar(len(prompts), desc="Generating Images", leave=False)
        stamp = int(time.time() * 1000)
        for i, prompt in enumerate(prompts):
            if self.trigger_word:
                prompt = prompt.replace("[trigger]", self.trigger_word)
            self.sleep(float(os.environ.get("FAKE_AITK_SAMPLE_SECONDS", "0")))
            name = f"{stamp}__{step:09d}_{i}.{self.sample.get('format', 'jpg')}"
            tmp = os.path.join(folder, ".tmp", name)
            with open(tmp, "wb") as f:
                f.write(TINY_JPEG)
            os.replace(tmp, os.path.join(folder, name))
            bar.update(1)
        bar.close()
        if self.bar:
            self.bar.unpause()

    def run(self):
        self.load_model()
        os.makedirs(self.save_root, exist_ok=True)
        with open(os.path.join(self.save_root, "config.yaml"), "w", encoding="utf-8") as f:
            f.write(dump_yaml(self.job.raw_config))
        self.scan_datasets()

        start_step = 0
        resume = self.find_resume()
        if resume is not None:
            print_acc(f"#### IMPORTANT RESUMING FROM {resume} ####")
            info = read_safetensors_metadata(resume).get("training_info") if resume.endswith(".safetensors") else None
            if info:
                start_step = int(json.loads(info).get("step", 0))
                print_acc(f"Found step {start_step} in metadata, starting from there")
            opt = os.path.join(self.save_root, "optimizer.pt")
            if os.path.exists(opt):
                print_acc(f"Loading optimizer state from {opt}")
        if self.train.get("start_step") is not None:
            start_step = int(self.train["start_step"])

        sampling = not self.disable_sampling
        if start_step == 0 and sampling and not self.skip_first_sample:
            print_acc("Generating baseline samples before training")
            self.sample_images(0)
        elif self.skip_first_sample:
            print_acc("Skipping first sample due to config setting")

        step_seconds = float(os.environ.get("FAKE_AITK_STEP_SECONDS", "0.01"))
        oom_at = env_int("FAKE_AITK_OOM_AT_STEP")
        crash_at = env_int("FAKE_AITK_CRASH_AT_STEP")
        hang_at = env_int("FAKE_AITK_HANG_AT_STEP")
        self.bar = Bar(self.steps, desc=self.name, initial=start_step, leave=True)
        for step in range(start_step, self.steps):
            self.step_num = step
            n = step + 1
            if hang_at is not None and n == hang_at:
                self.sleep(3600)
            if oom_at is not None and n == oom_at:
                for k in range(1, 4):
                    print_acc("")
                    print_acc("#" * 56)
                    print_acc(f"# OOM during training step, skipping batch {k}/3 #")
                    print_acc("#" * 56)
                raise RuntimeError("OOM during training step 3 times in a row, aborting training")
            if crash_at is not None and n == crash_at:
                raise RuntimeError("expected scalar type BFloat16 but found Float")
            self.sleep(step_seconds)
            loss = 0.45 * math.exp(-n / max(1, self.steps)) + 0.05
            self.bar.set_postfix_str(f"lr: {self.lr:.1e} loss: {loss:.3e}")
            self.bar.update(1)
            if n < self.steps and self.save_every and n % self.save_every == 0:
                self.save_checkpoint(n)
            if n < self.steps and sampling and self.sample_every and n % self.sample_every == 0:
                self.sample_images(n)
        self.bar.close()
        self.bar = None
        if os.environ.get("FAKE_AITK_EXIT0_WITHOUT_OUTPUT") == "1":
            return
        self.save_checkpoint(self.steps, final=True)
        if sampling:
            self.sample_images(self.steps)

    def on_error(self, e):
        if self.bar:
            self.bar.close()
            self.bar = None
