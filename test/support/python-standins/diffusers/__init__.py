"""Stand-in for the parts of diffusers that headshot_generate.py uses.

Signatures follow diffusers' source (src/diffusers/pipelines/flux/pipeline_flux.py,
flux2/pipeline_flux2.py, flux2/pipeline_flux2_klein.py, pipelines/pipeline_utils.py,
loaders/lora_base.py, loaders/lora_pipeline.py): a misspelt keyword argument raises TypeError here as
it would there. Behaviour is simulated and every call is recorded (standin_recorder).
"""
import hashlib
import os
import struct
import time

import torch
from PIL import Image as _PILImage
from standin_recorder import env_float, env_ints, record

from .quantizers import PipelineQuantizationConfig

__version__ = "0.37.0+standin"


class GatedRepoError(OSError):
    """Named like huggingface_hub.errors.GatedRepoError, which is what a gated repo without a token raises."""


class FluxPipelineOutput:
    def __init__(self, images):
        self.images = images


_FROM_PRETRAINED_KWARGS = {
    "torch_dtype", "dtype", "quantization_config", "token", "local_files_only", "cache_dir", "revision",
    "device_map", "variant", "use_safetensors", "low_cpu_mem_usage",
}
_calls = {"count": 0}


class DiffusionPipeline:
    _components = ()
    _loaded_from = None

    def __init__(self, base, dtype, quantization_config):
        self.base = base
        self.dtype = dtype
        self.quantization_config = quantization_config
        self.adapters = {}
        self.active = {}
        self.placement = None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        unknown = set(kwargs) - _FROM_PRETRAINED_KWARGS
        if unknown:
            raise TypeError(f"from_pretrained() got unexpected keyword arguments {sorted(unknown)}")
        quant = kwargs.get("quantization_config")
        if quant is not None:
            if not isinstance(quant, PipelineQuantizationConfig):
                raise TypeError("quantization_config must be a PipelineQuantizationConfig for a pipeline")
            missing = [c for c in quant.components_to_quantize or [] if c not in cls._components]
            if missing:
                raise ValueError(f"{cls.__name__} has no components {missing}; it has {list(cls._components)}")
        record(
            "from_pretrained",
            pipeline=cls.__name__,
            pretrained_model_name_or_path=pretrained_model_name_or_path,
            torch_dtype=repr(kwargs.get("torch_dtype")),
            quantization=quant.describe() if quant is not None else None,
            has_token="token" in kwargs,
            kwargs=sorted(kwargs),
        )
        # Real libraries print (tqdm, warnings, C extensions writing to fd 1); none of it may reach the protocol.
        print("Loading pipeline components...: 100%|##########| 7/7")
        os.write(1, b"Loading checkpoint shards: 100%\n")
        delay = env_float("STANDIN_LOAD_SECONDS")
        if delay:
            time.sleep(delay)
        if os.environ.get("STANDIN_OOM_ON_LOAD") == "1":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 90.00 MiB. GPU 0 has a total capacity of 23.65 GiB")
        if quant is not None and quant.quant_backend.startswith("bitsandbytes") and os.environ.get("STANDIN_NO_BITSANDBYTES") == "1":
            raise ImportError("Using `bitsandbytes` 8-bit quantization requires bitsandbytes: `pip install -U bitsandbytes`")
        if os.environ.get("STANDIN_GATED") == "1":
            raise GatedRepoError(
                f"401 Client Error. Cannot access gated repo for url https://huggingface.co/{pretrained_model_name_or_path}/resolve/main/model_index.json."
            )
        return cls(pretrained_model_name_or_path, kwargs.get("torch_dtype", kwargs.get("dtype")), quant)

    # Placement -----------------------------------------------------------------------------------

    def to(self, *args, **kwargs):
        record("to", args=[str(a) for a in args], kwargs={k: str(v) for k, v in kwargs.items()})
        self.placement = ("to", [str(a) for a in args])
        return self

    def enable_model_cpu_offload(self, gpu_id=None, device=None):
        record("enable_model_cpu_offload", gpu_id=gpu_id, device=None if device is None else str(device))
        self.placement = ("model_offload", device)

    def enable_sequential_cpu_offload(self, gpu_id=None, device=None):
        record("enable_sequential_cpu_offload", gpu_id=gpu_id, device=None if device is None else str(device))
        self.placement = ("sequential_offload", device)

    def set_progress_bar_config(self, **kwargs):
        record("set_progress_bar_config", kwargs=kwargs)

    # LoRA ----------------------------------------------------------------------------------------

    def load_lora_weights(self, pretrained_model_name_or_path_or_dict, adapter_name=None, hotswap=False, **kwargs):
        source = pretrained_model_name_or_path_or_dict
        if isinstance(source, dict):
            state_dict, kind = dict(source), "dict"
        else:
            from safetensors.torch import load_file

            state_dict, kind = load_file(source), "path"
        state_dict = self._lora_state_dict(state_dict)
        bad = [k for k in state_dict if not k.startswith("transformer.") or not (".lora_A." in k or ".lora_B." in k)]
        if bad:
            raise ValueError(f"No LoRA keys associated to the transformer found with the prefix='transformer': {bad[:3]}")
        name = adapter_name or f"default_{len(self.adapters)}"
        if name in self.adapters:
            raise ValueError(f"Adapter name {name} already in use in the transformer.")
        self.adapters[name] = state_dict
        self.active = {name: 1.0}
        record(
            "load_lora_weights",
            pipeline=type(self).__name__,
            source=kind,
            path=None if kind == "dict" else source,
            adapter_name=adapter_name,
            keys={k: list(v.shape) for k, v in sorted(state_dict.items())},
            kwargs=sorted(kwargs),
        )

    def _lora_state_dict(self, state_dict):
        return state_dict

    def set_adapters(self, adapter_names, adapter_weights=None):
        names = [adapter_names] if isinstance(adapter_names, str) else list(adapter_names)
        missing = [n for n in names if n not in self.adapters]
        if missing:
            raise ValueError(f"Adapter name(s) {set(missing)} not in the list of present adapters: {set(self.adapters)}.")
        if adapter_weights is None:
            weights = [1.0] * len(names)
        elif isinstance(adapter_weights, (int, float)):
            weights = [float(adapter_weights)] * len(names)
        else:
            weights = list(adapter_weights)
            if len(weights) != len(names):
                raise ValueError(f"Length of adapter names {len(names)} is not equal to the length of their weights {len(weights)}.")
        self.active = dict(zip(names, weights))
        record("set_adapters", adapter_names=names, adapter_weights=weights)

    # Generation ----------------------------------------------------------------------------------

    def _generate(self, prompt, height, width, num_inference_steps, guidance_scale, generator, callback_on_step_end,
                  callback_on_step_end_tensor_inputs, extra):
        _calls["count"] += 1
        call_number = _calls["count"]
        if not isinstance(prompt, str) or not prompt:
            raise ValueError("`prompt` has to be of type `str` or `list`")
        for name, value in (("height", height), ("width", width)):
            # The real pipelines warn and resize; here it is a bug in the caller, so fail loudly.
            if not isinstance(value, int) or value % 16:
                raise ValueError(f"`{name}` has to be divisible by 16 but is {value}")
        seed = generator.initial_seed() if isinstance(generator, torch.Generator) else None
        record(
            "__call__",
            pipeline=type(self).__name__,
            call_number=call_number,
            prompt=prompt,
            height=height,
            width=width,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            generator_device=getattr(generator, "device", None),
            generator_seed=seed,
            adapters=self.active,
            placement=self.placement,
            extra=extra,
        )
        step_delay = env_float("STANDIN_STEP_SECONDS")
        latents = torch.Tensor([1, (height // 16) * (width // 16), 64], self.dtype or torch.float32)
        for i in range(num_inference_steps):
            if step_delay:
                time.sleep(step_delay)
            if call_number in env_ints("STANDIN_OOM_ON_CALL") and i == 1:
                raise torch.cuda.OutOfMemoryError(
                    "CUDA out of memory. Tried to allocate 2.25 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.02 GiB is free."
                )
            if callback_on_step_end is not None:
                callback_kwargs = {k: latents for k in callback_on_step_end_tensor_inputs}
                outputs = callback_on_step_end(self, i, 1000 - i * (1000 // num_inference_steps), callback_kwargs)
                latents = outputs.pop("latents", latents)
        portrait = os.environ.get("STANDIN_PORTRAIT")
        if portrait and "strength" not in extra:
            return FluxPipelineOutput(images=[_PortraitImage(portrait)])
        digest = hashlib.sha256(
            repr((seed if seed is not None else time.time_ns(), prompt, width, height, sorted(self.active.items()))).encode()
        ).digest()
        return FluxPipelineOutput(images=[_PILImage.new("RGB", (width, height), tuple(digest[:3]))])


class _PortraitImage(_PILImage.Image):
    """STANDIN_PORTRAIT=<png>: text-to-image calls answer with that picture (a real face, so a polish
    after gen finds one to repaint); its size is the file's."""

    def __init__(self, path):
        with open(path, "rb") as handle:
            self._bytes = handle.read()
        width, height = struct.unpack(">II", self._bytes[16:24])
        super().__init__("RGB", (width, height), (0, 0, 0))

    def _png(self):
        return self._bytes


class FluxPipeline(DiffusionPipeline):
    _components = ("scheduler", "vae", "text_encoder", "tokenizer", "text_encoder_2", "tokenizer_2", "transformer",
                   "image_encoder", "feature_extractor")

    def __call__(
        self,
        prompt=None,
        prompt_2=None,
        negative_prompt=None,
        negative_prompt_2=None,
        true_cfg_scale=1.0,
        height=None,
        width=None,
        num_inference_steps=28,
        sigmas=None,
        guidance_scale=3.5,
        num_images_per_prompt=1,
        generator=None,
        latents=None,
        prompt_embeds=None,
        pooled_prompt_embeds=None,
        ip_adapter_image=None,
        ip_adapter_image_embeds=None,
        negative_ip_adapter_image=None,
        negative_ip_adapter_image_embeds=None,
        negative_prompt_embeds=None,
        negative_pooled_prompt_embeds=None,
        output_type="pil",
        return_dict=True,
        joint_attention_kwargs=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs=["latents"],  # noqa: B006 - mirrors the real default
        max_sequence_length=512,
    ):
        extra = {"true_cfg_scale": true_cfg_scale, "output_type": output_type, "joint_attention_kwargs": joint_attention_kwargs}
        return self._generate(prompt, height or 1024, width or 1024, num_inference_steps, guidance_scale, generator,
                              callback_on_step_end, callback_on_step_end_tensor_inputs, extra)


def _check_flux2_lora(state_dict):
    """The diffusers pinned by ai-toolkit converts BFL-named FLUX.2 LoRAs for FLUX.2-dev's fixed layout
    (8 double and 48 single blocks) and raises KeyError for anything else (ai-toolkit issue #667)."""
    if not any(k.startswith("diffusion_model.") for k in state_dict):
        return state_dict
    for block in range(48):
        key = f"single_blocks.{block}.linear1.lora_A.weight"
        if "diffusion_model." + key not in state_dict:
            raise KeyError(key)
    raise NotImplementedError("stand-in: full FLUX.2-dev conversion is not simulated")


class Flux2Pipeline(DiffusionPipeline):
    _components = ("scheduler", "vae", "text_encoder", "tokenizer", "transformer")

    def _lora_state_dict(self, state_dict):
        return _check_flux2_lora(state_dict)

    def __call__(
        self,
        image=None,
        prompt=None,
        height=None,
        width=None,
        num_inference_steps=50,
        sigmas=None,
        guidance_scale=4.0,
        num_images_per_prompt=1,
        generator=None,
        latents=None,
        prompt_embeds=None,
        output_type="pil",
        return_dict=True,
        attention_kwargs=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs=["latents"],  # noqa: B006 - mirrors the real default
        max_sequence_length=512,
        text_encoder_out_layers=(10, 20, 30),
        caption_upsample_temperature=None,
    ):
        extra = {"image": image, "output_type": output_type, "attention_kwargs": attention_kwargs}
        return self._generate(prompt, height or 1024, width or 1024, num_inference_steps, guidance_scale, generator,
                              callback_on_step_end, callback_on_step_end_tensor_inputs, extra)


class Flux2KleinPipeline(DiffusionPipeline):
    _components = ("scheduler", "vae", "text_encoder", "tokenizer", "transformer")

    def _lora_state_dict(self, state_dict):
        return _check_flux2_lora(state_dict)

    def __call__(
        self,
        image=None,
        prompt=None,
        height=None,
        width=None,
        num_inference_steps=50,
        sigmas=None,
        guidance_scale=4.0,
        num_images_per_prompt=1,
        generator=None,
        latents=None,
        prompt_embeds=None,
        negative_prompt_embeds=None,
        output_type="pil",
        return_dict=True,
        attention_kwargs=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs=["latents"],  # noqa: B006 - mirrors the real default
        max_sequence_length=512,
        text_encoder_out_layers=(9, 18, 27),
    ):
        extra = {"image": image, "output_type": output_type, "attention_kwargs": attention_kwargs}
        return self._generate(prompt, height or 1024, width or 1024, num_inference_steps, guidance_scale, generator,
                              callback_on_step_end, callback_on_step_end_tensor_inputs, extra)


class _MadeFromPipe(FluxPipeline):
    """DiffusionPipeline.from_pipe (diffusers pipelines/pipeline_utils.py): a new pipeline class over an
    already loaded pipeline's modules (the transformer with its LoRA adapter too), nothing loaded again."""

    @classmethod
    def from_pipe(cls, pipeline, **kwargs):
        if kwargs:
            raise TypeError(f"stand-in from_pipe() takes no overrides, got {sorted(kwargs)}")
        record("from_pipe", pipeline=cls.__name__, source=type(pipeline).__name__)
        made = cls(pipeline.base, pipeline.dtype, pipeline.quantization_config)
        made._source = pipeline
        made.placement = pipeline.placement
        return made


class FluxImg2ImgPipeline(_MadeFromPipe):
    """diffusers' pipelines/flux/pipeline_flux_img2img.py: img2img-style, it runs the last
    int(num_inference_steps * strength) steps."""

    def __call__(
        self,
        prompt=None,
        prompt_2=None,
        negative_prompt=None,
        negative_prompt_2=None,
        true_cfg_scale=1.0,
        image=None,
        height=None,
        width=None,
        strength=0.6,
        num_inference_steps=28,
        sigmas=None,
        guidance_scale=7.0,
        num_images_per_prompt=1,
        generator=None,
        latents=None,
        prompt_embeds=None,
        pooled_prompt_embeds=None,
        ip_adapter_image=None,
        ip_adapter_image_embeds=None,
        negative_ip_adapter_image=None,
        negative_ip_adapter_image_embeds=None,
        negative_prompt_embeds=None,
        negative_pooled_prompt_embeds=None,
        output_type="pil",
        return_dict=True,
        joint_attention_kwargs=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs=["latents"],  # noqa: B006 - mirrors the real default
        max_sequence_length=512,
    ):
        if image is None:
            raise ValueError("stand-in FluxImg2ImgPipeline needs image")
        if not 0 <= strength <= 1:
            raise ValueError(f"The value of strength should in [0.0, 1.0] but is {strength}")
        self.active = getattr(self, "_source", self).active
        extra = {"strength": strength, "image_size": list(image.size), "output_type": output_type}
        return self._generate(prompt, height or image.size[1], width or image.size[0], max(1, int(num_inference_steps * strength)), guidance_scale,
                              generator, callback_on_step_end, callback_on_step_end_tensor_inputs, extra)


class FluxInpaintPipeline(_MadeFromPipe):
    """diffusers' pipelines/flux/pipeline_flux_inpaint.py: img2img-style, it runs the last
    int(num_inference_steps * strength) steps."""

    def __call__(
        self,
        prompt=None,
        prompt_2=None,
        negative_prompt=None,
        negative_prompt_2=None,
        true_cfg_scale=1.0,
        image=None,
        mask_image=None,
        masked_image_latents=None,
        height=None,
        width=None,
        padding_mask_crop=None,
        strength=0.6,
        num_inference_steps=28,
        sigmas=None,
        guidance_scale=7.0,
        num_images_per_prompt=1,
        generator=None,
        latents=None,
        prompt_embeds=None,
        pooled_prompt_embeds=None,
        ip_adapter_image=None,
        ip_adapter_image_embeds=None,
        negative_ip_adapter_image=None,
        negative_ip_adapter_image_embeds=None,
        negative_prompt_embeds=None,
        negative_pooled_prompt_embeds=None,
        output_type="pil",
        return_dict=True,
        joint_attention_kwargs=None,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs=["latents"],  # noqa: B006 - mirrors the real default
        max_sequence_length=512,
    ):
        if image is None or mask_image is None:
            raise ValueError("stand-in FluxInpaintPipeline needs image and mask_image")
        if not 0 <= strength <= 1:
            raise ValueError(f"The value of strength should in [0.0, 1.0] but is {strength}")
        # The shared transformer carries the adapters set on the pipeline it came from.
        self.active = getattr(self, "_source", self).active
        extra = {"strength": strength, "image_size": list(image.size), "mask_size": list(mask_image.size), "output_type": output_type}
        return self._generate(prompt, height or image.size[1], width or image.size[0], max(1, int(num_inference_steps * strength)), guidance_scale,
                              generator, callback_on_step_end, callback_on_step_end_tensor_inputs, extra)


for _name in filter(None, (s.strip() for s in os.environ.get("STANDIN_DIFFUSERS_WITHOUT", "").split(","))):
    globals().pop(_name, None)
