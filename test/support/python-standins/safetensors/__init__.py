"""Stand-in for safetensors (only safetensors.torch.load_file is used)."""


class SafetensorError(Exception):
    pass
