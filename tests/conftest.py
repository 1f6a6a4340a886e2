"""Shared test settings: hypothesis runs with a fixed seed, so every run checks the same cases."""

from hypothesis import settings

settings.register_profile("fixed", derandomize=True, deadline=None)
settings.load_profile("fixed")
