"""Stub: requirements are installed up front (setup-ultralytics.sh)."""


def check_requirements(*args, **kwargs):
    return True
