"""Steps to solve CartPole-v1 over ten seeds, rlcore vs Stable-Baselines3 at RL-Zoo's PPO settings.

Protocol (a) of cartpole.py runs three seeds, too few to tell two learning curves apart. This runs
seeds 10-19 (steps only; seconds are not compared) and writes bench/results/learning_seeds.md.
Run: `.venv/bin/python bench/compare_learning.py` after `bash bench/run.sh` has installed SB3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from cartpole import RESULTS, ZOO_PPO, run_rlcore, run_sb3, sb3_zoo_ppo, solve_times


def main(seeds=range(10, 20)):
    runs = {"rlcore": [], "sb3": []}
    for seed in seeds:
        for lib, run in (("rlcore", lambda s: run_rlcore("ppo", ZOO_PPO, s)),
                         ("sb3", lambda s: run_sb3("ppo", *sb3_zoo_ppo(), s))):
            result = run(seed)
            result.update(solve_times(result["curve"]))
            runs[lib].append(result)
            print(seed, lib, result["first_steps"], result["sustained_steps"], result["final_return"], flush=True)
    rows = ["| library | first ≥475: median steps | sustained ≥475: median steps | sustained, per seed |",
            "|---|---:|---:|---|"]
    for lib, rs in runs.items():
        first = [r["first_steps"] for r in rs if r["first_steps"] is not None]
        sustained = [r["sustained_steps"] for r in rs]
        shown = ", ".join("never" if s is None else f"{s:,}" for s in sustained)
        rows.append(f"| {lib} | {np.median(first):,.0f} | "
                    f"{np.median([s for s in sustained if s is not None]):,.0f} | {shown} |")
    text = f"# PPO on CartPole-v1, seeds {seeds.start}-{seeds.stop - 1}: steps to solve\n\n" + "\n".join(rows) + "\n"
    Path(RESULTS, "learning_seeds.md").write_text(text)
    Path(RESULTS, "learning_seeds.json").write_text(json.dumps(runs, indent=1))
    print(text)


if __name__ == "__main__":
    main()
