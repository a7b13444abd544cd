"""Stand-in diffusers.quantizers.PipelineQuantizationConfig (diffusers >= 0.35)."""

_BACKENDS = {"bitsandbytes_4bit", "bitsandbytes_8bit", "gguf", "quanto", "torchao"}


class PipelineQuantizationConfig:
    def __init__(self, quant_backend=None, quant_kwargs=None, components_to_quantize=None, quant_mapping=None):
        if quant_mapping is None and quant_backend not in _BACKENDS:
            raise ValueError(f"quant_backend={quant_backend!r} is not one of {sorted(_BACKENDS)}")
        if isinstance(components_to_quantize, str):
            components_to_quantize = [components_to_quantize]
        self.quant_backend = quant_backend
        self.quant_kwargs = quant_kwargs or {}
        self.components_to_quantize = components_to_quantize
        self.quant_mapping = quant_mapping

    def describe(self):
        return {
            "quant_backend": self.quant_backend,
            "quant_kwargs": {k: repr(v) if not isinstance(v, (str, int, float, bool)) else v for k, v in self.quant_kwargs.items()},
            "components_to_quantize": self.components_to_quantize,
        }
