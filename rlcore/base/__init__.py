"""Layer 0: what every other layer may use. Input validation (numpy only), seeding, device choice."""

from . import validate
from .device import pick_device
from .seeding import seed_everything

__all__ = ["pick_device", "seed_everything", "validate"]
