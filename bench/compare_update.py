"""Does one PPO update of rlcore equal Stable-Baselines3's at identical settings, weights and data?

The same rollout (collected by SB3's policy) goes into both libraries; rlcore's network starts from a
copy of SB3's weights; both then run one update with RL-Zoo's CartPole settings (20 epochs on one
full-batch minibatch). The script prints, per seed, the size of the update and how far apart the two
updated parameter vectors are. A difference far below the update means the learning rules are the
same; what remains is float32 rounding in two implementations. A control row runs rlcore with one
setting changed (the clip range not annealed) to show the comparison can tell rules apart.
Run with `bash bench/run.sh --compare-update` (writes bench/results/update_equivalence.md).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from stable_baselines3 import PPO as SB3PPO  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

from rlcore.algos.ppo import PPO, PPOConfig  # noqa: E402
from rlcore.nets.mlp import linear_layers  # noqa: E402

PROGRESS = 0.7  # anywhere in training: the learning rate and the clip range are 0.7 of their start


def sb3_rollout(model, env, n_steps: int):
    """Fill SB3's rollout buffer with its own policy, as its collect_rollouts does (without callbacks)."""
    buffer = model.rollout_buffer
    buffer.reset()
    obs = env.reset()
    episode_starts = np.ones(env.num_envs, dtype=bool)
    for _ in range(n_steps):
        with torch.no_grad():
            actions, values, log_probs = model.policy(torch.as_tensor(obs))
        actions = actions.numpy()
        new_obs, rewards, dones, infos = env.step(actions)
        for i, done in enumerate(dones):  # time-limit bootstrap, as SB3 does
            if done and infos[i].get("TimeLimit.truncated", False):
                with torch.no_grad():
                    final_obs = torch.as_tensor(infos[i]["terminal_observation"])[None]
                    terminal_value = model.policy.predict_values(final_obs)
                rewards[i] += model.gamma * terminal_value.item()
        buffer.add(obs, actions.reshape(-1, 1), rewards, episode_starts, values, log_probs)
        obs, episode_starts = new_obs, dones
    with torch.no_grad():
        last_values = model.policy.predict_values(torch.as_tensor(obs))
    buffer.compute_returns_and_advantage(last_values=last_values, dones=episode_starts)


def copy_weights(model, net) -> None:
    pairs = [(model.policy.mlp_extractor.policy_net, net.actor.body),
             (model.policy.mlp_extractor.value_net, net.critic.body)]
    with torch.no_grad():
        for theirs, ours in pairs:
            for a, b in zip(linear_layers(theirs), linear_layers(ours)):
                b.weight.copy_(a.weight)
                b.bias.copy_(a.bias)
        net.actor.out.weight.copy_(model.policy.action_net.weight)
        net.actor.out.bias.copy_(model.policy.action_net.bias)
        net.critic.out.weight.copy_(model.policy.value_net.weight)
        net.critic.out.bias.copy_(model.policy.value_net.bias)


def flat_sb3(model) -> torch.Tensor:
    p = model.policy
    parts = [m for seq in (p.mlp_extractor.policy_net,) for m in linear_layers(seq)] + [p.action_net]
    parts += linear_layers(p.mlp_extractor.value_net) + [p.value_net]
    return torch.cat([t.detach().reshape(-1) for m in parts for t in (m.weight, m.bias)])


def flat_rlcore(net) -> torch.Tensor:
    parts = linear_layers(net.actor.body) + [net.actor.out] + linear_layers(net.critic.body) + [net.critic.out]
    return torch.cat([t.detach().reshape(-1) for m in parts for t in (m.weight, m.bias)])


def compare(seed: int, fast: bool | None, **change) -> tuple[float, float]:
    torch.manual_seed(seed)
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = SB3PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                   ent_coef=0.0, learning_rate=lambda p: p * 1e-3, clip_range=lambda p: p * 0.2, seed=seed,
                   device="cpu", verbose=0)
    model._setup_learn(100_000)
    # let both start mid-training rather than from the near-uniform initial policy: a few SB3 updates
    for _ in range(5):
        sb3_rollout(model, env, 32)
        model._current_progress_remaining = 1.0
        model.train()
    sb3_rollout(model, env, 32)
    buf = model.rollout_buffer
    learner = PPO(PPOConfig(progress=False, seed=seed, fast=fast, **change), 4, 2, True)
    copy_weights(model, learner.net)
    before = flat_rlcore(learner.net)
    assert torch.equal(before, flat_sb3(model))
    batch = {"obs": torch.as_tensor(buf.observations.reshape(-1, 4)),
             "actions": torch.as_tensor(buf.actions.reshape(-1)).long(),
             "log_probs": torch.as_tensor(buf.log_probs.reshape(-1)), "values": torch.as_tensor(buf.values.reshape(-1)),
             "advantages": torch.as_tensor(buf.advantages.reshape(-1)),
             "returns": torch.as_tensor(buf.returns.reshape(-1))}
    # SB3's buffer is (T, N) like rlcore's transitions; SB3 flattens it env-major, which a full batch ignores
    # both Adams start afresh (rlcore's learner is new; SB3's has five updates of history)
    model.policy.optimizer = model.policy.optimizer_class(model.policy.parameters(), lr=1e-3,
                                                          **model.policy.optimizer_kwargs)
    learner.update(batch, PROGRESS)
    model._current_progress_remaining = PROGRESS
    model.train()
    ours, theirs = flat_rlcore(learner.net), flat_sb3(model)
    return float((theirs - before).norm()), float((ours - theirs).norm())


def main():
    rows = ["| seed | rlcore | size of SB3's update | distance rlcore - SB3 | ratio |", "|---:|---|---:|---:|---:|"]
    for seed in range(3):
        for name, fast, change in (("fast path", None, {}), ("plain path", False, {}),
                                   ("control: clip range not annealed", None, {"anneal_clip": False})):
            step, gap = compare(seed, fast, **change)
            rows.append(f"| {seed} | {name} | {step:.3e} | {gap:.3e} | {gap / step:.1e} |")
    text = ("# One PPO update: rlcore vs Stable-Baselines3 from the same weights and data\n\n"
            "RL-Zoo's CartPole settings, 20 epochs on one full-batch minibatch, progress 0.7 (lr 7e-4, clip 0.14); "
            "Euclidean norms of the parameter vectors.\n\n" + "\n".join(rows) + "\n")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "update_equivalence.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
