"""Stub: no Hugging Face Hub look-ups (no network at run time); every repo is "not found"."""
from .utils._errors import RepositoryNotFoundError


def list_repo_files(*args, **kwargs):
    raise RepositoryNotFoundError("huggingface_hub stub: no hub access in the dyolo quality harness")


def hf_hub_download(*args, **kwargs):
    raise RepositoryNotFoundError("huggingface_hub stub: no hub access in the dyolo quality harness")
