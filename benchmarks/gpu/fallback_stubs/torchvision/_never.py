"""The one behaviour of every callable in the stub."""


def never(*_args, **_kwargs):
    raise RuntimeError("torchvision import stub (benchmarks/gpu/fallback_stubs): this call needs the real torchvision")


class Never:
    def __init__(self, *_args, **_kwargs):
        never()

    def __getattr__(self, _name):
        return never
