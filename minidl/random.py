"""Seeding: one call seeds every device's generator (initialisation, dropout masks, loaders)."""

from minidl.backend import seed_all


def manual_seed(seed):
    """Seed the random generators of every device, now and for devices first used later."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    seed_all(seed)
