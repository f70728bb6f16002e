"""rlcore's TRPO vs sb3-contrib's on CartPole-v1 and Pendulum-v1, trained side by side in one process.

Protocols (see bench/README.md):
  cartpole-zoo   RL-Zoo's tuned CartPole-v1 settings for both (TRPOConfig's defaults): identical settings.
  pendulum-zoo   RL-Zoo's tuned Pendulum-v1 settings for both, without gSDE, which rlcore does not implement:
                 identical settings; sb3-contrib also runs the Zoo's own setting with gSDE, its best.
  cartpole-best  each library's best CartPole-v1 configuration: time to solve.

Runs are interleaved (seed by seed, alternating which library goes first), each with one torch thread. Greedy
evaluations (10 seeded episodes, run in parallel) every ``EVAL_EVERY`` steps are excluded from the training
seconds. Writes bench/results/trpo.{md,json,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402
from cartpole import (  # noqa: E402
    EVAL_EPISODES,
    EVAL_EVERY,
    RESULTS,
    fmt,
    interleave,
    rlcore_learn,
    sb3_learn,
    summarise,
)

import rlcore  # noqa: E402
from rlcore.algos.trpo import train_trpo  # noqa: E402

THRESHOLD = {"CartPole-v1": 475.0, "Pendulum-v1": -200.0}

# RL-Zoo's hyperparams/trpo.yml. CartPole-v1 is TRPOConfig's defaults; Pendulum-v1 sets n_steps 1024, gamma 0.9 and
# 15 critic updates, and keeps sb3-contrib's defaults for the rest (critic minibatch 128, damping 0.1, lambda 0.95).
ZOO = {
    "CartPole-v1": (dict(num_envs=2, num_steps=512, critic_batch_size=512, cg_damping=1e-3, gae_lambda=0.98,
                         gamma=0.99, lr=1e-3, critic_epochs=20, total_steps=100_000),
                    dict(n_envs=2, n_steps=512, batch_size=512, cg_damping=1e-3, gae_lambda=0.98, gamma=0.99,
                         learning_rate=1e-3, n_critic_updates=20)),
    "Pendulum-v1": (dict(num_envs=2, num_steps=1024, critic_batch_size=128, cg_damping=0.1, gae_lambda=0.95,
                         gamma=0.9, lr=1e-3, critic_epochs=15, total_steps=100_000),
                    dict(n_envs=2, n_steps=1024, batch_size=128, cg_damping=0.1, gae_lambda=0.95, gamma=0.9,
                         learning_rate=1e-3, n_critic_updates=15)),
}
# rlcore's own CartPole configuration: TRPOConfig's defaults, the Zoo's settings with sb3-contrib's default damping
# (0.1) and critic minibatch (128), for 60k steps.
RLCORE_BEST_CARTPOLE = dict(total_steps=60_000)


def run_rlcore(config: dict, seed: int, env_id: str) -> dict:
    return rlcore_learn(train_trpo, config, seed, env_id)


def run_sb3(kwargs: dict, total_steps: int, seed: int, env_id: str) -> dict:
    from sb3_contrib import TRPO
    from stable_baselines3.common.env_util import make_vec_env

    kwargs = dict(kwargs)
    env = make_vec_env(env_id, n_envs=kwargs.pop("n_envs"), seed=seed)
    return sb3_learn(TRPO("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **kwargs), total_steps, env_id)


def zoo(env_id: str):
    ours, theirs = ZOO[env_id]
    return ours, theirs, ours["total_steps"]


# Each protocol: a title, its environment and its contenders, (name, run(seed)); "sb3-contrib" is the reference.
PROTOCOLS = {
    "cartpole-zoo": ("TRPO, RL-Zoo CartPole settings for both", "CartPole-v1", [
        ("rlcore", lambda s: run_rlcore(zoo("CartPole-v1")[0], s, "CartPole-v1")),
        ("sb3-contrib", lambda s: run_sb3(zoo("CartPole-v1")[1], zoo("CartPole-v1")[2], s, "CartPole-v1"))]),
    "pendulum-zoo": ("TRPO, RL-Zoo Pendulum settings without gSDE for both", "Pendulum-v1", [
        ("rlcore", lambda s: run_rlcore(zoo("Pendulum-v1")[0], s, "Pendulum-v1")),
        ("sb3-contrib", lambda s: run_sb3(zoo("Pendulum-v1")[1], zoo("Pendulum-v1")[2], s, "Pendulum-v1")),
        ("sb3-contrib with gSDE (RL Zoo)", lambda s: run_sb3(
            dict(zoo("Pendulum-v1")[1], use_sde=True, sde_sample_freq=4), zoo("Pendulum-v1")[2], s,
            "Pendulum-v1"))]),
    "cartpole-best": ("TRPO, each library's best CartPole configuration", "CartPole-v1", [
        ("rlcore", lambda s: run_rlcore(RLCORE_BEST_CARTPOLE, s, "CartPole-v1")),
        ("sb3-contrib", lambda s: run_sb3(zoo("CartPole-v1")[1], zoo("CartPole-v1")[2], s, "CartPole-v1"))]),
}


def table(results: dict, n: int) -> str:
    lines = ["| protocol | library | env-steps/s | ratio | first solved: steps | s | sustained: steps | s "
             "| final return (20 eps), per seed |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for key, res in results.items():
        ref = res["summary"]["sb3-contrib"]
        for lib, s in res["summary"].items():
            ratio = f"{s['steps_per_second'] / ref['steps_per_second']:.2f}×"
            per_seed = ", ".join(f"{r:.0f}" for r in s["final_returns"])
            lines.append(f"| {key} (≥ {THRESHOLD[res['env_id']]:.0f}) | {lib} | {s['steps_per_second']:,.0f} | {ratio} "
                         f"| {fmt(s['first_steps'], s['first_steps_n'], n)} "
                         f"| {fmt(s['first_seconds'], s['first_seconds_n'], n, 1)} "
                         f"| {fmt(s['sustained_steps'], s['sustained_steps_n'], n)} "
                         f"| {fmt(s['sustained_seconds'], s['sustained_seconds_n'], n, 1)} "
                         f"| {s['final_return']:.1f} ({per_seed}) |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.6), squeeze=False, layout="constrained")
    for ax, (key, res) in zip(axes[0], results.items()):
        for c, (lib, runs) in enumerate(res["runs"].items()):
            for k, run in enumerate(runs):
                _, t, r = zip(*run["curve"]) if run["curve"] else ((), (), ())
                ax.plot(t, r, color=f"C{c}", alpha=0.7, lw=1.2, label=lib if k == 0 else None)
        ax.axhline(THRESHOLD[res["env_id"]], color="gray", ls=":", lw=1)
        ax.set(title=f"{key}: {res['title']}", xlabel="training seconds (evaluation excluded)",
               ylabel=f"greedy return ({EVAL_EPISODES} episodes)")
        ax.title.set_fontsize(8)
        ax.legend(loc="lower right", fontsize=7)
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds per protocol (>= 3 for the table)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS),
                        help="comma-separated, from " + ", ".join(PROTOCOLS))
    parser.add_argument("--out", default=str(RESULTS), help="results folder")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other protocols' results of the last run (trpo.json) and replace these")
    args = parser.parse_args()
    keys = [k for k in args.protocols.split(",") if k]
    if args.seeds < 1 or not set(keys) <= set(PROTOCOLS):
        parser.error(f"--seeds must be >= 1 and --protocols a comma-separated subset of {', '.join(PROTOCOLS)}")
    torch.set_num_threads(1)
    import sb3_contrib

    seeds = list(range(args.seeds))
    out = Path(args.out)
    saved = out / "trpo.json"
    results = json.loads(saved.read_text())["results"] if args.merge and saved.exists() else {}
    for key in keys:
        title, env_id, contenders = PROTOCOLS[key]
        runs = interleave(key, contenders, seeds, THRESHOLD[env_id])
        results[key] = {"title": title, "env_id": env_id, "runs": runs,
                        "summary": {lib: summarise(r) for lib, r in runs.items()}}
    results = {key: results[key] for key in PROTOCOLS if key in results}  # in the protocols' order
    out.mkdir(parents=True, exist_ok=True)
    meta = (f"rlcore {rlcore.__version__}, sb3-contrib {sb3_contrib.__version__}, torch {torch.__version__}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, 1 torch thread, seeds {seeds}, "
            f"evaluation every {EVAL_EVERY} steps over {EVAL_EPISODES} greedy episodes (excluded from seconds); "
            f"medians over seeds, final return averaged (per seed in brackets); ratio: env-steps/s over "
            f"sb3-contrib's at the same protocol")
    text = f"# TRPO: rlcore vs sb3-contrib\n\n{meta}\n\n{table(results, len(seeds))}\n"
    (out / "trpo.md").write_text(text)
    (out / "trpo.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    plot(results, out / "trpo_curves.png")
    print("\n" + text)


if __name__ == "__main__":
    main()
