"""Layer 4, networks: plain ``nn.Module``s (actor and critic separate, Q networks, deterministic and
squashed actors) and, below the same interface, the fast paths for the CPU."""

from .fused import use_fast_path
from .inference import NumpyPolicy, TorchPolicy, rollout_policy
from .mlp import (
    ActorCritic,
    ContinuousQNet,
    DeterministicActor,
    PolicyNet,
    QNet,
    SquashedGaussianActor,
    ValueNet,
    mlp,
)

__all__ = ["ActorCritic", "ContinuousQNet", "DeterministicActor", "NumpyPolicy", "PolicyNet", "QNet",
           "SquashedGaussianActor", "TorchPolicy", "ValueNet", "mlp", "rollout_policy", "use_fast_path"]
