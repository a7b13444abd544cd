"""FLUX.2 LoRA keys: ai-toolkit's BFL names (diffusion_model.*) -> diffusers PEFT names (transformer.*).

ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py: FLUX.1 LoRAs are diffusers PEFT keys (transformer.<module>.lora_A.weight) and
load as they are. FLUX.2 LoRAs carry BFL module names (ai-toolkit trains its own copy of BFL's Flux2
model: double_blocks, single_blocks, img_attn.qkv ...) under `diffusion_model.`. The diffusers pinned by
ai-toolkit converts those with a hard-coded FLUX.2-dev layout (8 double, 48 single blocks), so klein
LoRAs fail with KeyError (ai-toolkit issue #667, black-forest-labs/flux2#33). headshot_generate.py
therefore converts the keys itself, for any number of blocks, and hands diffusers a state dict that is
already in diffusers' naming (Flux2Transformer2DModel module names).

Standard library only; tensors only need `.chunk(3, dim=0)`.
"""
from __future__ import annotations


class LoraFormatError(ValueError):
    pass


_DOUBLE_BLOCK_MAP = {
    "img_attn.proj": "attn.to_out.0",
    "txt_attn.proj": "attn.to_add_out",
    "img_mlp.0": "ff.linear_in",
    "img_mlp.2": "ff.linear_out",
    "txt_mlp.0": "ff_context.linear_in",
    "txt_mlp.2": "ff_context.linear_out",
}
_QKV_SPLIT = {"img_attn.qkv": ("to_q", "to_k", "to_v"), "txt_attn.qkv": ("add_q_proj", "add_k_proj", "add_v_proj")}
_SINGLE_BLOCK_MAP = {"linear1": "attn.to_qkv_mlp_proj", "linear2": "attn.to_out"}
_GLOBAL_MAP = {
    "img_in": "x_embedder",
    "txt_in": "context_embedder",
    "time_in.in_layer": "time_guidance_embed.timestep_embedder.linear_1",
    "time_in.out_layer": "time_guidance_embed.timestep_embedder.linear_2",
    "guidance_in.in_layer": "time_guidance_embed.guidance_embedder.linear_1",
    "guidance_in.out_layer": "time_guidance_embed.guidance_embedder.linear_2",
    "final_layer.linear": "proj_out",
    "final_layer.adaLN_modulation.1": "norm_out.linear",
    "double_stream_modulation_img.lin": "double_stream_modulation_img.linear",
    "double_stream_modulation_txt.lin": "double_stream_modulation_txt.linear",
    "single_stream_modulation.lin": "single_stream_modulation.linear",
}
_BFL_PREFIX = "diffusion_model."


def convert_flux2_lora(state_dict: dict) -> dict:
    """BFL-named FLUX.2 LoRA (diffusion_model.*) -> diffusers PEFT names (transformer.*)."""
    out = {}
    unknown = []
    for key, tensor in state_dict.items():
        if not key.startswith(_BFL_PREFIX):
            if key.startswith("transformer."):
                out[key] = tensor
            else:
                unknown.append(key)
            continue
        name = key[len(_BFL_PREFIX):]
        # Files that already use diffusers block names under the BFL prefix only need the prefix swapped.
        if name.startswith(("transformer_blocks.", "single_transformer_blocks.")):
            out["transformer." + name] = tensor
            continue
        module, dot, leaf = name.rpartition(".lora_")
        if not dot or leaf not in ("A.weight", "B.weight"):
            unknown.append(key)
            continue
        side = "lora_" + leaf  # lora_A.weight / lora_B.weight
        parts = module.split(".")
        if len(parts) >= 3 and parts[0] == "double_blocks" and parts[1].isdigit():
            block, rest = parts[1], ".".join(parts[2:])
            base = f"transformer.transformer_blocks.{block}"
            if rest in _QKV_SPLIT:
                targets = _QKV_SPLIT[rest]
                if side == "lora_A.weight":
                    # The down projection is shared: q, k and v each get the same A.
                    for target in targets:
                        out[f"{base}.attn.{target}.{side}"] = tensor
                else:
                    # The up projection of a fused qkv stacks q, k, v along the output dimension.
                    for target, piece in zip(targets, tensor.chunk(3, dim=0)):
                        out[f"{base}.attn.{target}.{side}"] = piece
                continue
            if rest in _DOUBLE_BLOCK_MAP:
                out[f"{base}.{_DOUBLE_BLOCK_MAP[rest]}.{side}"] = tensor
                continue
        elif len(parts) == 3 and parts[0] == "single_blocks" and parts[1].isdigit() and parts[2] in _SINGLE_BLOCK_MAP:
            out[f"transformer.single_transformer_blocks.{parts[1]}.{_SINGLE_BLOCK_MAP[parts[2]]}.{side}"] = tensor
            continue
        elif module in _GLOBAL_MAP:
            out[f"transformer.{_GLOBAL_MAP[module]}.{side}"] = tensor
            continue
        unknown.append(key)
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
        raise LoraFormatError(f"unrecognised FLUX.2 LoRA keys (LoKr and other adapter types are not supported): {shown}")
    if not out:
        raise LoraFormatError("the LoRA file contains no tensors")
    return out


def is_bfl_named(state_dict: dict) -> bool:
    return any(k.startswith(_BFL_PREFIX) for k in state_dict)
