"""PPO with a Gaussian head on Pendulum-v1 over five seeds, at the settings of Chapter 14, §14.8 (the RL Zoo's Pendulum
entry without state-dependent exploration, with the learning rate annealed): greedy return after 200,000 steps.
Writes bench/results/ppo_pendulum.md. Run: `.venv/bin/python bench/ppo_pendulum.py` (no other library needed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rlcore.algos.ppo import train_ppo  # noqa: E402

SETTINGS = dict(env_id="Pendulum-v1", num_envs=4, num_steps=1024, gamma=0.9, gae_lambda=0.95, lr=1e-3, epochs=10,
                batch_size=64, anneal_lr=True, anneal_clip=False, total_steps=200_000, progress=False)


def main(seeds=range(5)):
    torch.set_num_threads(1)
    rows = ["| seed | greedy return (20 episodes) | seconds |", "|---:|---:|---:|"]
    returns = []
    for seed in seeds:
        start = time.perf_counter()
        agent = train_ppo(seed=seed, **SETTINGS)
        seconds = time.perf_counter() - start
        returns.append(float(np.mean(agent.episode_returns(20, seed=20_000))))
        rows.append(f"| {seed} | {returns[-1]:.1f} | {seconds:.1f} |")
        print(rows[-1], flush=True)
    solved = sum(r >= -200 for r in returns)
    text = (f"# PPO on Pendulum-v1, Chapter 14's settings\n\n{SETTINGS}\n\n" + "\n".join(rows)
            + f"\n\n{solved} of {len(returns)} seeds end with a greedy return of at least -200.\n")
    path = Path(__file__).parent / "results" / "ppo_pendulum.md"
    path.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
