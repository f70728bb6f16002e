"""rlcore vs Stable-Baselines3 on CartPole-v1, trained side by side in one process.

Protocols (see bench/README.md):
  a  PPO, RL-Zoo hyperparameters for both libraries: implementation efficiency at identical settings.
  b  PPO, each library's best configuration: time to solve.
  c  A2C, identical settings for both (SB3's A2C defaults with RL-Zoo's 8 environments).

Runs are interleaved (seed by seed, alternating which library goes first), each with one torch
thread. Greedy evaluations (10 seeded episodes, run in parallel) happen every ``EVAL_EVERY``
steps and are *excluded* from the training seconds. Writes bench/results/cartpole.{md,json,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

import rlcore  # noqa: E402
from rlcore.algos.a2c import train_a2c  # noqa: E402
from rlcore.algos.ppo import train_ppo  # noqa: E402
from rlcore.training.evaluation import episode_returns  # noqa: E402

EVAL_EVERY = 2048
EVAL_EPISODES = 10
FINAL_EPISODES = 20
SOLVED = 475.0
RESULTS = Path(__file__).parent / "results"

# RL-Zoo's tuned CartPole-v1 PPO (hyperparams/ppo.yml), the same for both libraries in protocol (a).
ZOO_PPO = dict(num_envs=8, num_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, epochs=20, ent_coef=0.0,
               lr=1e-3, anneal_lr=True, clip_range=0.2, anneal_clip=True, total_steps=100_000)
# rlcore's own configuration for time to solve: rollouts half as long (an update every 128 steps),
# 10 epochs instead of 20, twice the learning rate, half the step budget.
RLCORE_BEST_PPO = dict(num_envs=8, num_steps=16, batch_size=128, gae_lambda=0.8, gamma=0.98, epochs=10,
                       ent_coef=0.0, lr=2e-3, anneal_lr=True, clip_range=0.2, anneal_clip=True, total_steps=50_000)
# SB3's A2C defaults (n_steps 5, RMSprop lr 7e-4, gamma 0.99, lambda 1, no advantage normalisation), 8 envs.
SB3_A2C = dict(num_envs=8, num_steps=5, gamma=0.99, gae_lambda=1.0, lr=7e-4, anneal_lr=False, optimizer="rmsprop",
               normalize_advantages=False, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, total_steps=200_000)


class Clock:
    """Training seconds: wall time minus the time spent in evaluations."""

    def __init__(self):
        self.start, self.paused = time.perf_counter(), 0.0

    def seconds(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def evaluate(self, curve: list, steps: int, policy, env_id: str) -> None:
        """Append ``(steps, training seconds, mean greedy return)`` to ``curve``, not counting the evaluation."""
        pause = time.perf_counter()
        curve.append((steps, self.seconds(), float(np.mean(episode_returns(policy, env_id, EVAL_EPISODES)))))
        self.paused += time.perf_counter() - pause


def rlcore_learn(train, config: dict, seed: int, env_id: str) -> dict:
    """Train with an rlcore ``train`` function (``train_ppo``, ``train_a2c``, ``train_trpo``) and ``config``, with
    greedy evaluations every ``EVAL_EVERY`` steps excluded from its training seconds, then measure its final greedy
    return."""
    curve = []
    clock = Clock()
    next_eval = [EVAL_EVERY]

    def callback(record, agent):
        if record["steps"] >= next_eval[0]:
            next_eval[0] += EVAL_EVERY
            clock.evaluate(curve, record["steps"], agent.act, env_id)

    agent = train(env_id=env_id, seed=seed, progress=False, callback=callback, **config)
    seconds, steps = clock.seconds(), agent.history["steps"][-1]
    final = float(np.mean(agent.episode_returns(FINAL_EPISODES, seed=20_000)))
    return {"steps": steps, "seconds": seconds, "curve": curve, "final_return": final}


def run_rlcore(algo: str, config: dict, seed: int, env_id="CartPole-v1") -> dict:
    return rlcore_learn(train_ppo if algo == "ppo" else train_a2c, config, seed, env_id)


def sb3_learn(model, total_steps: int, env_id: str) -> dict:
    """Train a Stable-Baselines3 (or sb3-contrib) ``model`` for ``total_steps`` with greedy evaluations every
    ``EVAL_EVERY`` steps, excluded from its training seconds, then measure its final greedy return."""
    from stable_baselines3.common.callbacks import BaseCallback

    curve = []

    class Evaluate(BaseCallback):
        def _on_training_start(self):
            self.clock, self.next_eval = Clock(), EVAL_EVERY

        def _on_step(self):
            if self.num_timesteps >= self.next_eval:
                self.next_eval += EVAL_EVERY
                self.clock.evaluate(curve, self.num_timesteps,
                                    lambda obs: self.model.predict(obs, deterministic=True)[0], env_id)
            return True

        def _on_training_end(self):
            self.seconds = self.clock.seconds()

    callback = Evaluate()
    model.learn(total_steps, callback=callback)
    final = episode_returns(lambda obs: model.predict(obs, deterministic=True)[0], env_id, FINAL_EPISODES, seed=20_000)
    return {"steps": model.num_timesteps, "seconds": callback.seconds, "curve": curve,
            "final_return": float(np.mean(final))}


def run_sb3(algo: str, kwargs: dict, total_steps: int, seed: int, env_id="CartPole-v1") -> dict:
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.env_util import make_vec_env

    kwargs = dict(kwargs)
    env = make_vec_env(env_id, n_envs=kwargs.pop("n_envs"), seed=seed)
    cls = PPO if algo == "ppo" else A2C
    return sb3_learn(cls("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **kwargs), total_steps, env_id)


def linear(start: float):
    return lambda progress_remaining: progress_remaining * start


def sb3_zoo_ppo() -> tuple[dict, int]:
    return dict(n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                learning_rate=linear(1e-3), clip_range=linear(0.2)), 100_000


def sb3_a2c() -> tuple[dict, int]:
    return dict(n_envs=8, n_steps=5, gamma=0.99, gae_lambda=1.0, learning_rate=7e-4, ent_coef=0.0), 200_000


# Each protocol: a title and its contenders, (name, run(seed)); the last one is the reference (SB3).
# Protocol (a) also runs rlcore's plain path (fast=False: autograd through two nn.Sequential towers,
# torch's own rollouts through the network, the foreach Adam) to show what the fast paths buy.
PROTOCOLS = {
    "a": ("PPO, RL-Zoo settings for both", [
        ("rlcore", lambda s: run_rlcore("ppo", ZOO_PPO, s)),
        ("rlcore plain path", lambda s: run_rlcore("ppo", {**ZOO_PPO, "fast": False}, s)),
        ("sb3", lambda s: run_sb3("ppo", *sb3_zoo_ppo(), s))]),
    "b": ("PPO, each library's best configuration", [
        ("rlcore", lambda s: run_rlcore("ppo", RLCORE_BEST_PPO, s)),
        ("sb3", lambda s: run_sb3("ppo", *sb3_zoo_ppo(), s))]),
    "c": ("A2C, SB3's defaults for both", [
        ("rlcore", lambda s: run_rlcore("a2c", SB3_A2C, s)),
        ("sb3", lambda s: run_sb3("a2c", *sb3_a2c(), s))]),
}


def solve_times(curve, threshold: float = SOLVED) -> dict:
    """Steps and seconds at the first evaluation >= threshold, and at the first after which all are."""
    first = next(((s, t) for s, t, r in curve if r >= threshold), (None, None))
    sustained = (None, None)
    for k in range(len(curve) - 1, -1, -1):
        if curve[k][2] < threshold:
            break
        sustained = curve[k][:2]
    return {"first_steps": first[0], "first_seconds": first[1],
            "sustained_steps": sustained[0], "sustained_seconds": sustained[1]}


def interleave(key: str, contenders: list, seeds: list[int], threshold: float = SOLVED) -> dict[str, list[dict]]:
    """Run every contender ``(name, run(seed))`` on every seed, seed by seed, alternating which goes first; each
    result gets its solve times for ``threshold``."""
    runs = {lib: [] for lib, _ in contenders}
    for seed in seeds:
        for lib, run in contenders if seed % 2 == 0 else contenders[::-1]:
            result = run(seed)
            result.update(solve_times(result["curve"], threshold))
            runs[lib].append(result)
            print(f"{key} seed {seed} {lib:30s}: {result['steps'] / result['seconds']:8,.0f} steps/s, "
                  f"sustained from {result['sustained_steps']} steps / {result['sustained_seconds']} s, "
                  f"final {result['final_return']:.1f}", flush=True)
    return runs


def summarise(runs: list[dict]) -> dict:
    def med(key):
        values = [r[key] for r in runs if r[key] is not None]
        return (float(np.median(values)) if values else None), len(values)

    out = {"steps_per_second": float(np.median([r["steps"] / r["seconds"] for r in runs])),
           "final_return": float(np.mean([r["final_return"] for r in runs])),
           "final_returns": [r["final_return"] for r in runs]}
    for key in ("first_steps", "first_seconds", "sustained_steps", "sustained_seconds"):
        out[key], out[key + "_n"] = med(key)
    return out


def fmt(value, n, total, digits=0):
    if value is None:
        return "never"
    text = f"{value:,.{digits}f}"
    return text if n == total else f"{text} ({n}/{total} runs)"


def table(results: dict, seeds: list[int]) -> str:
    lines = ["| protocol | library | env-steps/s | ratio | first ≥475: steps | s | sustained ≥475: steps | s "
             "| final return (20 eps) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key, res in results.items():
        ours, sb3 = res["summary"]["rlcore"], res["summary"]["sb3"]
        for lib, s in res["summary"].items():
            name = "SB3 2.9.2" if lib == "sb3" else lib
            ratio = f"{s['steps_per_second'] / sb3['steps_per_second']:.2f}×" if lib != "sb3" else "1×"
            n = len(seeds)
            lines.append(f"| ({key}) {res['title']} | {name} | {s['steps_per_second']:,.0f} | {ratio} | "
                         f"{fmt(s['first_steps'], s['first_steps_n'], n)} | "
                         f"{fmt(s['first_seconds'], s['first_seconds_n'], n, 2)} | "
                         f"{fmt(s['sustained_steps'], s['sustained_steps_n'], n)} | "
                         f"{fmt(s['sustained_seconds'], s['sustained_seconds_n'], n, 2)} | {s['final_return']:.1f} |")
        if ours["sustained_seconds"] and sb3["sustained_seconds"]:
            lines.append(f"| | *sustained-solve time, rlcore / SB3* | | | | | | "
                         f"{ours['sustained_seconds'] / sb3['sustained_seconds']:.2f} | |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.6), squeeze=False, layout="constrained")
    for ax, (key, res) in zip(axes[0], results.items()):
        for lib, runs in res["runs"].items():
            color = {"rlcore": "C0", "sb3": "C1"}.get(lib, "C2")
            for k, run in enumerate(runs):
                s, t, r = zip(*run["curve"]) if run["curve"] else ((), (), ())
                ax.plot(t, r, color=color, alpha=0.7, lw=1.2, label=("SB3" if lib == "sb3" else lib)
                        if k == 0 else None)
        ax.axhline(SOLVED, color="gray", ls=":", lw=1)
        ax.set(title=f"({key}) {res['title']}", xlabel="training seconds (evaluation excluded)",
               ylabel=f"greedy return ({EVAL_EPISODES} episodes)")
        ax.legend(loc="lower right")
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds per protocol (>= 3 for the table)")
    parser.add_argument("--protocols", default="abc", help="which protocols to run, e.g. 'ab'")
    parser.add_argument("--out", default=str(RESULTS), help="results folder")
    args = parser.parse_args()
    if args.seeds < 1 or not set(args.protocols) <= set(PROTOCOLS):
        parser.error(f"--seeds must be >= 1 and --protocols a subset of {''.join(PROTOCOLS)}")
    torch.set_num_threads(1)
    import stable_baselines3

    seeds = list(range(args.seeds))
    results = {}
    for key in args.protocols:
        title, contenders = PROTOCOLS[key]
        runs = interleave(key, contenders, seeds)
        results[key] = {"title": title, "runs": runs,
                        "summary": {lib: summarise(r) for lib, r in runs.items()}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = (f"rlcore {rlcore.__version__}, stable-baselines3 {stable_baselines3.__version__}, "
            f"torch {torch.__version__}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, 1 torch thread, seeds {seeds}, "
            f"evaluation every {EVAL_EVERY} steps over {EVAL_EPISODES} greedy episodes (excluded from seconds); "
            f"medians over seeds, final return averaged")
    text = f"# CartPole-v1: rlcore vs Stable-Baselines3\n\n{meta}\n\n{table(results, seeds)}\n"
    (out / "cartpole.md").write_text(text)
    (out / "cartpole.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    plot(results, out / "cartpole_curves.png")
    print("\n" + text)


if __name__ == "__main__":
    main()
