#!/usr/bin/env python3
"""Golden data for the TRPO kernels (Tests/KernelsTests/TRPOGoldenTests.swift).

    python3 reference/trpo/make_golden.py      # writes reference/trpo/golden.json

Two small policies, a Gaussian 5 -> 8 -> 7 -> 3 and a categorical 4 -> 8 -> 6 -> 3, on 24 states,
in float64 with PyTorch, through the functions of Benchmarks/peers/torch_trpo_step.py (the peer
timing script, a transcription of Stable-Baselines3-contrib's TRPO):

- theta = PolicyNetwork.seededParameters(seed: 11) and the batch of PolicyBatch.seeded(seed: 12),
  rebuilt from Crosscheck's SeededGenerator (seeded_generator.py): the Swift test checks that
  its own seeded theta and batch are these values exactly, which validates the recipe the peer
  script relies on; old log-probabilities from the policy at theta;
- v: SeededGenerator(13) Gaussian values;
- the Fisher-vector product as SB3-contrib computes it, by double backpropagation: grad_kl =
  autograd.grad(kl_divergence(new, old).mean(), params, create_graph=True), then
  flat_grad((grad_kl * v).sum(), params) + damping * v, for damping 0.1 and 0;
- the surrogate's gradient g, and one whole update with cg_max_steps = 10 from
  x0 = 1e-4 * SeededGenerator(14) Gaussian values (CGOptions.stableBaselines3(iterations: 10,
  seed: 14)): the CG direction, x.(F + damping I)x, the step scale, the line search's trials, the
  KL and surrogate reached, and theta after the update.

torch's version is recorded.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Benchmarks", "peers"))
import torch_trpo_step as trpo  # noqa: E402
from seeded_generator import SeededGenerator  # noqa: E402

COUNT = 24
PARAMETER_SEED, BATCH_SEED, VECTOR_SEED, CG_SEED = 11, 12, 13, 14
CG_ITERATIONS = 10


def case(sizes, head):
    policy, states, actions, advantages, old_log_prob = trpo.make_problem(
        sizes, head, COUNT, torch.float64, parameter_seed=PARAMETER_SEED, batch_seed=BATCH_SEED)
    theta = torch.cat([p.detach().reshape(-1) for p in policy.actor_parameters()]).clone()
    v = torch.tensor(SeededGenerator(VECTOR_SEED).gaussian(theta.numel()))
    params, grad_kl = trpo.fisher_vector_product_setup(policy, states, actions, advantages, old_log_prob)
    fvp = {str(damping): trpo.hessian_vector_product(params, grad_kl, v, damping).tolist() for damping in (0.1, 0.0)}
    x0 = trpo.seeded_start(theta.numel(), CG_SEED)
    result = trpo.trpo_update(policy, states, actions, advantages, old_log_prob, x0, cg_max_steps=CG_ITERATIONS)
    theta_new = torch.cat([p.detach().reshape(-1) for p in policy.actor_parameters()])
    return {
        "layer_sizes": sizes, "head": head, "count": COUNT,
        "parameter_seed": PARAMETER_SEED, "batch_seed": BATCH_SEED, "vector_seed": VECTOR_SEED,
        "cg_seed": CG_SEED, "cg_iterations": CG_ITERATIONS, "max_kl": 0.01, "damping": 0.1,
        "theta": theta.tolist(), "states": states.reshape(-1).tolist(),
        "actions": actions.reshape(-1).tolist(), "advantages": advantages.tolist(),
        "old_log_probabilities": old_log_prob.tolist(), "v": v.tolist(),
        "fvp_damping_0_1": fvp["0.1"], "fvp_damping_0": fvp["0.0"],
        "gradient": result["gradient"].tolist(), "direction": result["direction"].tolist(),
        "cg_iterations_taken": result["iterations"], "quadratic_form": result["quadratic_form"],
        "step_scale": result["step_scale"], "accepted": result["accepted"], "coefficient": result["coefficient"],
        "tries": result["tries"], "kl": result["kl"], "surrogate_before": result["surrogate_before"],
        "surrogate_after": result["surrogate_after"], "theta_new": theta_new.tolist(),
    }


def main():
    golden = {
        "torch_version": torch.__version__,
        "cases": [case([5, 8, 7, 3], "gaussian"), case([4, 8, 6, 3], "categorical")],
    }
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
