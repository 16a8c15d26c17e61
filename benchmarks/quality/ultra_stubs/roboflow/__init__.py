"""Stub: the Roboflow connector is not used by the harness."""


class Roboflow:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("roboflow is not installed (dyolo quality harness stub)")
