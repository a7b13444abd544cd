#!/usr/bin/env python3
"""headshot local generator: FLUX + an identity LoRA on your own GPU, one long-lived process per batch.

Run by `headshot gen --backend local` with ai-toolkit's Python (AI_TOOLKIT_PYTHON), which already has
torch, diffusers and safetensors. ai-toolkit's own `generate` job cannot be used for FLUX plus a LoRA:
it crashes for FLUX.1 and ignores the LoRA for FLUX.2 (ostris/ai-toolkit toolkit/stable_diffusion_model.py), so this program drives
diffusers' pipelines directly.

Command line:
  headshot_generate.py --model flux1-dev|flux1-schnell|flux2-dev|flux2-klein-4b|flux2-klein-9b
                       --base <hf id or local folder> --lora <file.safetensors>
                       [--offload none|model|sequential] [--quantize none|8bit|4bit] [--device cuda]

Protocol: one JSON object per line. stdout carries only protocol lines; everything human (and anything
a library prints) goes to stderr.

  Node -> Python (stdin)
    {"type":"job","id":"a1","prompt":"...","width":1024,"height":1024,"steps":28,"guidance":3.5,
     "seed":42,"lora_scale":1.0,"out":"/abs/path/img.png"}
    optional, for headshot polish's face pass (FLUX.1 only): "image":"/abs/region.png",
     "strength":0.35 and, to inpaint, "mask":"/abs/mask.png" (white = repaint) -> diffusers'
     FluxInpaintPipeline (with a mask) or FluxImg2ImgPipeline (without), each built once from the
     loaded pipeline's components (DiffusionPipeline.from_pipe: no second model load, the LoRA
     adapter shared); width and height are then the picture's, and progress counts the
     int(steps * strength) steps that run
    {"type":"shutdown"}

  Python -> Node (stdout)
    {"type":"loading","message":"..."}                      while the model loads (can take minutes)
    {"type":"ready","model":"flux1-dev","device":"cuda","offload":"model","quantize":"none"}
    {"type":"progress","id":"a1","step":3,"total":28}       after every denoising step (step is 1-based)
    {"type":"image","id":"a1","path":"...","width":1024,"height":1024,"seed":42}
    {"type":"error","id":"a1","code":"oom","message":"..."} id is absent for errors outside a job
    {"type":"bye"}                                          last line before a clean exit

  Error codes: oom (CUDA out of memory), bad_job (the job line is invalid), lora (the LoRA file cannot be
  read or applied), model_access (gated/missing base model, no HF token), dependency (torch, diffusers or
  CUDA missing or too old), internal (anything else).

  Jobs run one at a time in the order received. A job that fails (even with oom) leaves the process
  serving further jobs. Widths and heights are floored to multiples of 16 (FLUX latents are 16-pixel
  patches; ai-toolkit floors the same way), and the image line reports the size actually used.
  Images are written atomically: a temp file in the same folder, fsync, then os.replace.

Exit codes: 0 after shutdown or end of stdin, 2 bad arguments, 3 the model could not be loaded (the error
line says why), 130 SIGINT, 143 SIGTERM (the job in flight is abandoned and no partial file is left),
1 a bug in this program.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
import traceback

# The folder of this file is sys.path[0] when it runs as a script, so its sibling module imports.
# No __pycache__ next to it: the package folder may be read-only, or a source checkout.
_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
from flux2_lora import LoraFormatError, convert_flux2_lora, is_bfl_named  # noqa: E402

sys.dont_write_bytecode = _bytecode

MODELS = {
    # model -> (diffusers pipeline class, family)
    "flux1-dev": ("FluxPipeline", "flux1"),
    "flux1-schnell": ("FluxPipeline", "flux1"),
    "flux2-dev": ("Flux2Pipeline", "flux2"),
    "flux2-klein-4b": ("Flux2KleinPipeline", "flux2"),
    "flux2-klein-9b": ("Flux2KleinPipeline", "flux2"),
}
# The component holding the big text encoder, quantized together with the transformer.
TEXT_ENCODER_COMPONENT = {"flux1": "text_encoder_2", "flux2": "text_encoder"}
ADAPTER_NAME = "identity"
SIZE_MULTIPLE = 16
MIN_SIZE, MAX_SIZE = 64, 4096
# Same prefix as src/util/atomic-write.ts so leftovers of a kill are recognisable.
TEMP_PREFIX = ".headshot-tmp-"

EXIT_OK, EXIT_BUG, EXIT_ARGS, EXIT_LOAD = 0, 1, 2, 3


class Stop(BaseException):
    """Raised from the signal handler; BaseException so per-job `except Exception` cannot swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class GenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- protocol output -----------------------------------------------------------------------------

_proto = None  # the real stdout, kept apart from sys.stdout (which is pointed at stderr)


def claim_stdout() -> None:
    """Keep fd 1 for protocol lines only: libraries that print (tqdm, warnings, print()) go to stderr."""
    global _proto
    _proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def emit(message: dict) -> None:
    out = _proto if _proto is not None else sys.stdout
    line = json.dumps(message, separators=(",", ":")) + "\n"
    # A signal in the middle of a write would leave half a line; hold it until the line is out.
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        out.write(line)
        out.flush()
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def log(text: str) -> None:
    sys.stderr.write(f"[headshot-generate] {text}\n")
    sys.stderr.flush()


# --- error classification ------------------------------------------------------------------------


def _class_names(error: BaseException) -> set:
    return {cls.__name__ for cls in type(error).__mro__}


def is_oom(error: BaseException, torch) -> bool:
    oom_types = tuple(
        t for t in (getattr(torch, "OutOfMemoryError", None), getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None))
        if isinstance(t, type)
    )
    if oom_types and isinstance(error, oom_types):
        return True
    # Older torch raises a plain RuntimeError; bitsandbytes and accelerate sometimes wrap it.
    text = str(error)
    return "CUDA out of memory" in text or "CUDA error: out of memory" in text or "OutOfMemoryError" in _class_names(error)


def is_model_access(error: BaseException) -> bool:
    # huggingface_hub errors are recognised by name so this program does not import huggingface_hub.
    hub = {"GatedRepoError", "RepositoryNotFoundError", "RevisionNotFoundError", "LocalEntryNotFoundError", "EntryNotFoundError"}
    if _class_names(error) & hub:
        return True
    text = str(error)
    # ostris/ai-toolkit#676 (401 on a gated repo) and ostris/ai-toolkit#36 (403 / no config.json).
    needles = (
        "401 Client Error", "403 Client Error", "gated repo", "Cannot access gated",
        "does not appear to have a file named", "couldn't connect to",
    )
    return any(n in text for n in needles)


def free_cuda_memory(torch) -> None:
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort after an OOM
        pass


# --- the generator ---------------------------------------------------------------------------------


def round_size(value: int) -> int:
    return (int(value) // SIZE_MULTIPLE) * SIZE_MULTIPLE


def parse_job(raw: dict) -> dict:
    def need(name, kind, default=None):
        value = raw.get(name, default)
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else:
            ok = isinstance(value, str) and value != ""
        if not ok:
            raise GenError("bad_job", f"job field {name!r} must be a {'non-empty string' if kind is str else kind.__name__}, got {value!r}")
        return value

    job = {
        "id": need("id", str),
        "prompt": need("prompt", str),
        "steps": need("steps", int),
        "guidance": float(need("guidance", float)),
        "seed": need("seed", int),
        "out": need("out", str),
        "lora_scale": float(need("lora_scale", float, 1.0)),
    }
    width, height = round_size(need("width", int)), round_size(need("height", int))
    for name, value in (("width", width), ("height", height)):
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise GenError("bad_job", f"{name} must be between {MIN_SIZE} and {MAX_SIZE} (after flooring to a multiple of 16), got {value}")
    if not 1 <= job["steps"] <= 500:
        raise GenError("bad_job", f"steps must be between 1 and 500, got {job['steps']}")
    if not 0 <= job["seed"] < 2**63:
        raise GenError("bad_job", f"seed must be between 0 and 2^63-1, got {job['seed']}")
    if not os.path.isabs(job["out"]):
        raise GenError("bad_job", f"out must be an absolute path, got {job['out']!r}")
    job["width"], job["height"] = width, height
    if raw.get("image") is not None or raw.get("mask") is not None:
        job["image"] = need("image", str)
        if raw.get("mask") is not None:
            job["mask"] = need("mask", str)
        job["strength"] = float(need("strength", float))
        for name in ("image", "mask"):
            if name in job and not os.path.isabs(job[name]):
                raise GenError("bad_job", f"{name} must be an absolute path, got {job[name]!r}")
        if not 0 < job["strength"] <= 1:
            raise GenError("bad_job", f"strength must be above 0 and at most 1, got {job['strength']}")
    return job


def save_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(ext, "PNG")


class Generator:
    def __init__(self, args, torch, diffusers) -> None:
        self.args = args
        self.torch = torch
        self.diffusers = diffusers
        self.pipe = None
        self.derived = {}  # FluxInpaintPipeline / FluxImg2ImgPipeline sharing self.pipe's components, made on first use
        self.current_scale = None
        self.temp_path = None  # the file being written right now, removed if we are stopped

    # Loading ---------------------------------------------------------------------------------------

    def load(self) -> None:
        args, torch, diffusers = self.args, self.torch, self.diffusers
        class_name, family = MODELS[args.model]
        pipeline_class = getattr(diffusers, class_name, None)
        if pipeline_class is None:
            version = getattr(diffusers, "__version__", "unknown")
            hint = " (Flux2KleinPipeline needs diffusers 0.37 or newer)" if class_name == "Flux2KleinPipeline" else ""
            raise GenError("dependency", f"diffusers {version} has no {class_name}{hint}; upgrade diffusers in this Python")
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise GenError("dependency", "torch cannot see a CUDA GPU (torch.cuda.is_available() is False)")

        kwargs = {"torch_dtype": torch.bfloat16}
        if args.quantize != "none":
            try:
                from diffusers.quantizers import PipelineQuantizationConfig
            except ImportError as error:
                raise GenError("dependency", f"this diffusers cannot quantize on load ({error}); upgrade diffusers or use --quantize none") from error
            # bitsandbytes: PEFT can put LoRA layers on its 8-bit and 4-bit linears.
            if args.quantize == "8bit":
                backend, quant_kwargs = "bitsandbytes_8bit", {"load_in_8bit": True}
            else:
                backend, quant_kwargs = "bitsandbytes_4bit", {
                    "load_in_4bit": True,
                    "bnb_4bit_quant_type": "nf4",
                    "bnb_4bit_compute_dtype": torch.bfloat16,
                }
            kwargs["quantization_config"] = PipelineQuantizationConfig(
                quant_backend=backend,
                quant_kwargs=quant_kwargs,
                components_to_quantize=["transformer", TEXT_ENCODER_COMPONENT[family]],
            )
        token = os.environ.get("HF_TOKEN")
        if token:
            kwargs["token"] = token

        emit({"type": "loading", "message": f"loading {args.base} with {class_name} (bfloat16, quantize {args.quantize})"})
        log(f"loading {args.base} ({class_name})")
        pipe = pipeline_class.from_pretrained(args.base, **kwargs)
        pipe.set_progress_bar_config(disable=True)

        emit({"type": "loading", "message": f"loading LoRA {os.path.basename(args.lora)}"})
        self._load_lora(pipe, family)

        emit({"type": "loading", "message": f"placing the model on {args.device} (offload {args.offload})"})
        if args.offload == "model":
            pipe.enable_model_cpu_offload(device=args.device)
        elif args.offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=args.device)
        else:
            pipe.to(args.device)
        self.pipe = pipe

    def _load_lora(self, pipe, family: str) -> None:
        path = self.args.lora
        if not os.path.isfile(path):
            raise GenError("lora", f"LoRA file not found: {path}")
        try:
            if family == "flux2":
                from safetensors.torch import load_file  # a dependency of diffusers itself

                state_dict = load_file(path, device="cpu")
                # ostris/ai-toolkit#667: convert BFL names ourselves (flux2_lora.py explains why).
                source = convert_flux2_lora(state_dict) if is_bfl_named(state_dict) else state_dict
                pipe.load_lora_weights(source, adapter_name=ADAPTER_NAME)
            else:
                # FLUX.1 files from ai-toolkit are already diffusers PEFT keys (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py).
                pipe.load_lora_weights(path, adapter_name=ADAPTER_NAME)
        except LoraFormatError as error:
            raise GenError("lora", str(error)) from error
        except GenError:
            raise
        except Exception as error:  # noqa: BLE001 - classified below (Stop is not an Exception)
            if is_oom(error, self.torch):
                raise
            raise GenError("lora", f"cannot load LoRA {path}: {type(error).__name__}: {error}") from error

    # Jobs ------------------------------------------------------------------------------------------

    def run_job(self, job: dict) -> dict:
        torch, pipe = self.torch, self.pipe
        if self.current_scale != job["lora_scale"]:
            # set_adapters keeps the LoRA unfused so the scale can change between jobs.
            pipe.set_adapters([ADAPTER_NAME], adapter_weights=[job["lora_scale"]])
            self.current_scale = job["lora_scale"]

        total = job["steps"]
        if "image" in job:
            # img2img-style pipelines run only the last int(steps * strength) steps.
            total = max(1, int(job["steps"] * job["strength"]))

        def on_step_end(_pipe, step, _timestep, callback_kwargs):
            emit({"type": "progress", "id": job["id"], "step": step + 1, "total": total})
            return callback_kwargs

        generator = torch.Generator(self.args.device).manual_seed(job["seed"])
        common = {
            "prompt": job["prompt"],
            "width": job["width"],
            "height": job["height"],
            "num_inference_steps": job["steps"] if "image" in job else total,
            "guidance_scale": job["guidance"],
            "generator": generator,
            "callback_on_step_end": on_step_end,
        }
        if "mask" in job:
            result = self._derived_pipe("FluxInpaintPipeline")(image=self._open_image(job["image"]), mask_image=self._open_image(job["mask"]), strength=job["strength"], **common)
        elif "image" in job:
            result = self._derived_pipe("FluxImg2ImgPipeline")(image=self._open_image(job["image"]), strength=job["strength"], **common)
        else:
            result = pipe(**common)
        image = result.images[0]
        self._write_atomic(image, job["out"])
        width, height = getattr(image, "size", (job["width"], job["height"]))
        return {"type": "image", "id": job["id"], "path": job["out"], "width": width, "height": height, "seed": job["seed"]}

    def _derived_pipe(self, class_name: str):
        """An img2img or inpaint pipeline over the already loaded components (and LoRA adapter).

        diffusers' DiffusionPipeline.from_pipe (src/diffusers/pipelines/pipeline_utils.py) builds the
        new class from the source pipeline's modules "without reallocating additional memory": the
        transformer with its PEFT LoRA layers, the VAE and both text encoders are the same objects,
        and so is the offload placement. So one process and one model load serve gen and polish.
        The call signatures are those of pipelines/flux/pipeline_flux_inpaint.py and
        pipeline_flux_img2img.py (`image`, `mask_image`, `strength`, `num_inference_steps`, ...).
        """
        if MODELS[self.args.model][1] != "flux1":
            raise GenError("bad_job", f"the face pass (image-to-image) needs a FLUX.1 model; {self.args.model} has no img2img or inpainting pipeline here")
        if class_name not in self.derived:
            derived_class = getattr(self.diffusers, class_name, None)
            if derived_class is None:
                raise GenError("dependency", f"diffusers {getattr(self.diffusers, '__version__', 'unknown')} has no {class_name}; upgrade diffusers")
            made = derived_class.from_pipe(self.pipe)
            made.set_progress_bar_config(disable=True)
            self.derived[class_name] = made
        return self.derived[class_name]

    @staticmethod
    def _open_image(path: str):
        from PIL import Image  # a dependency of diffusers itself

        if not os.path.isfile(path):
            raise GenError("bad_job", f"input image not found: {path}")
        return Image.open(path).convert("RGB")

    def _write_atomic(self, image, target: str) -> None:
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        temp = os.path.join(folder, f"{TEMP_PREFIX}{os.path.basename(target)}.{os.getpid()}")
        self.temp_path = temp
        try:
            with open(temp, "wb") as handle:
                image.save(handle, format=save_format(target))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.remove(temp)
            self.temp_path = None

    def discard_partial(self) -> None:
        if self.temp_path and os.path.exists(self.temp_path):
            try:
                os.remove(self.temp_path)
            except OSError:
                pass


# --- main loop -------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="headshot_generate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--base", required=True, help="Hugging Face id or local folder of the base model (diffusers layout)")
    parser.add_argument("--lora", required=True, help="the identity LoRA (.safetensors)")
    parser.add_argument("--offload", default="none", choices=["none", "model", "sequential"])
    parser.add_argument("--quantize", default="none", choices=["none", "8bit", "4bit"])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    if args.offload == "sequential" and args.quantize != "none":
        parser.error("--offload sequential cannot be combined with --quantize (sequential offload needs little GPU memory already)")
    return args


def serve(gen: Generator) -> int:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        job_id = None
        try:
            try:
                message = json.loads(line)
            except ValueError as error:
                raise GenError("bad_job", f"not a JSON line: {error}") from error
            if not isinstance(message, dict):
                raise GenError("bad_job", "a protocol line must be a JSON object")
            if message.get("type") == "shutdown":
                break
            if message.get("type") != "job":
                raise GenError("bad_job", f"unknown message type {message.get('type')!r}")
            if isinstance(message.get("id"), str):
                job_id = message["id"]
            job = parse_job(message)
            emit(gen.run_job(job))
        except GenError as error:
            emit(_error(job_id, error.code, str(error)))
        except Exception as error:  # noqa: BLE001 - the process keeps serving
            if is_oom(error, gen.torch):
                free_cuda_memory(gen.torch)
                emit(_error(job_id, "oom", f"CUDA out of memory: {error}"))
            else:
                traceback.print_exc(file=sys.stderr)
                emit(_error(job_id, "internal", f"{type(error).__name__}: {error}"))
    emit({"type": "bye"})
    return EXIT_OK


def _error(job_id, code: str, message: str) -> dict:
    out = {"type": "error", "code": code, "message": message}
    if job_id is not None:
        out["id"] = job_id
    return out


def main(argv=None) -> int:
    claim_stdout()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return EXIT_ARGS if exit_.code not in (0, None) else EXIT_OK

    def on_signal(signum, _frame):
        raise Stop(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    gen = None
    try:
        try:
            import torch
            import diffusers
        except ImportError as error:
            emit(_error(None, "dependency", f"cannot import {getattr(error, 'name', None) or error}: {error}"))
            return EXIT_LOAD
        gen = Generator(args, torch, diffusers)
        started = time.monotonic()
        try:
            gen.load()
        except GenError as error:
            emit(_error(None, error.code, str(error)))
            return EXIT_LOAD
        except Exception as error:  # noqa: BLE001 - classified for the Node side
            traceback.print_exc(file=sys.stderr)
            if is_oom(error, torch):
                emit(_error(None, "oom", f"CUDA out of memory while loading the model: {error}"))
            elif isinstance(error, ImportError):
                # e.g. bitsandbytes or accelerate missing for the chosen memory mode
                emit(_error(None, "dependency", f"{type(error).__name__}: {error}"))
            elif is_model_access(error):
                emit(_error(None, "model_access", f"cannot download or open {args.base}: {type(error).__name__}: {error}"))
            else:
                emit(_error(None, "internal", f"loading failed: {type(error).__name__}: {error}"))
            return EXIT_LOAD
        log(f"ready after {time.monotonic() - started:.1f}s")
        emit({"type": "ready", "model": args.model, "device": args.device, "offload": args.offload, "quantize": args.quantize})
        return serve(gen)
    except Stop as stop:
        if gen is not None:
            gen.discard_partial()
        log(f"stopped by signal {stop.signum}")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            emit({"type": "bye"})
        except (OSError, ValueError):
            pass
        return 128 + stop.signum


if __name__ == "__main__":
    sys.exit(main())
