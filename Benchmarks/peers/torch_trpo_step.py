#!/usr/bin/env python3
"""Peer timing for the `trpo` family: one TRPO policy update as Stable-Baselines3-contrib runs it,
in PyTorch, on the same policy and batch as Crosscheck's `trpoStep`.

    python3 Benchmarks/peers/torch_trpo_step.py [--count 5000] [--repeats 10] [--threads 1,2]

Prints, for the Gaussian 17 -> 64 -> 64 -> 6 (HalfCheetah) and the categorical 4 -> 64 -> 64 -> 2
(CartPole) policies, N states, float32, and each thread count (torch.set_num_threads): the
median time of one Fisher-vector product and of one whole update, with its CG iterations,
line-search trials and KL reached.

The algorithm is sb3_contrib/trpo/trpo.py `TRPO.train` (v2.x) for one rollout batch, transcribed
without the critic: the old distribution under no_grad, advantages standardized
((A - mean) / (std + 1e-8)), surrogate = mean(A * exp(log_prob - old_log_prob)), KL =
kl_divergence(new, old).mean(), per-parameter autograd.grad of the KL (create_graph=True) and of
the surrogate (`_compute_actor_grad`), `hessian_vector_product` = flat_grad((grad_kl * v).sum())
+ cg_damping * v, `conjugate_gradient_solver` (sb3_contrib/common/utils.py) with max_iter =
cg_max_steps = 15 and residual_tol = 1e-10, step = sqrt(2 * target_kl / (x . Hx)), and the
backtracking line search (shrink 0.8, 10 trials, accept when kl < target_kl and the surrogate
improved). Defaults: target_kl 0.01, cg_damping 0.1.

How the inputs are made identical to Swift's (`PolicyNetwork.seededParameters(seed:)`,
`PolicyBatch.seeded(network:parameters:count:seed:)`, `TRPOOptions()`): Crosscheck's
SeededGenerator is reimplemented bit for bit in seeded_generator.py (validated against the
Swift generator by Tests/KernelsTests/SolversGoldenTests.swift), and this script draws in the
same order: theta (each weight and bias of layer l uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)),
log sigma = -0.5 + 0.1 * uniform), then states (Gaussian, row-major), actions (Gaussian values,
or next() % n_actions), advantages (Gaussian), each value computed in float64 and rounded once to
float32. theta's layout is nn.Linear's (weight [out, in], then bias, layer by layer, then log
sigma). The old log-probabilities are log pi_theta(a|s) computed by each implementation itself,
as a rollout buffer stores them (so the ratio starts at 1 in both). Conjugate gradient starts
from x0 = 1e-4 * (Gaussian values from SeededGenerator(CG_SEED)) instead of torch.randn, as
CGOptions.stableBaselines3(seed:) does. reference/trpo/make_golden.py uses this file's functions
on small policies in float64 and records theta, batch, products and directions that the Swift
tests compare, which checks the recipe and the transcription.
"""
import argparse
import math
import os
import statistics
import sys
import time

import torch
from torch import nn
from torch.distributions import Categorical, Normal, kl_divergence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded_generator import SeededGenerator  # noqa: E402

PARAMETER_SEED = 1
BATCH_SEED = 2
# TRPOOptions()'s default: CGOptions.stableBaselines3(iterations: 15, seed: 0x7270_6F5F_6367).
CG_SEED = 0x72706F5F6367

HALF_CHEETAH = ([17, 64, 64, 6], "gaussian")
CART_POLE = ([4, 64, 64, 2], "categorical")


# ----- the policy ---------------------------------------------------------------------------

class Policy(nn.Module):
    """An MLP with tanh between its nn.Linear layers and a Gaussian (state-independent log sigma)
    or categorical head, as SB3's MlpPolicy actor."""

    def __init__(self, sizes, head, dtype):
        super().__init__()
        layers = []
        for l in range(1, len(sizes)):
            layers.append(nn.Linear(sizes[l - 1], sizes[l], dtype=dtype))
            if l < len(sizes) - 1:
                layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self.head = head
        if head == "gaussian":
            self.log_std = nn.Parameter(torch.zeros(sizes[-1], dtype=dtype))

    def actor_parameters(self):
        """Parameters in Crosscheck's layout order: W1, b1, W2, b2, ..., (log sigma)."""
        params = []
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                params += [layer.weight, layer.bias]
        if self.head == "gaussian":
            params.append(self.log_std)
        return params

    def load_flat(self, theta):
        with torch.no_grad():
            offset = 0
            for p in self.actor_parameters():
                p.copy_(theta[offset:offset + p.numel()].view_as(p))
                offset += p.numel()

    def distribution(self, states):
        out = self.net(states)
        if self.head == "gaussian":
            return Normal(out, self.log_std.exp().expand_as(out))
        return Categorical(logits=out)

    def log_prob(self, dist, actions):
        lp = dist.log_prob(actions)
        return lp.sum(dim=1) if self.head == "gaussian" else lp


def mean_kl(policy, new, old):
    """SB3's kl_divergence(distribution, old_distribution).mean(): KL(new || old), summed over
    the action dimensions of a diagonal Gaussian."""
    kl = kl_divergence(new, old)
    return (kl.sum(dim=1) if policy.head == "gaussian" else kl).mean()


# ----- the inputs, as Swift makes them ------------------------------------------------------

def seeded_parameters(sizes, head, seed):
    """PolicyNetwork.seededParameters(seed:), in float64."""
    g = SeededGenerator(seed)
    theta = []
    for l in range(1, len(sizes)):
        scale = 1 / math.sqrt(sizes[l - 1])
        theta += [g.next_signed() * scale for _ in range(sizes[l] * (sizes[l - 1] + 1))]
    if head == "gaussian":
        theta += [-0.5 + 0.1 * g.next_signed() for _ in range(sizes[-1])]
    return torch.tensor(theta, dtype=torch.float64)


def seeded_batch(sizes, head, count, seed):
    """PolicyBatch.seeded(...) without the old log-probabilities: (states, actions, advantages)
    in float64 (actions as int64 indices for a categorical head)."""
    g = SeededGenerator(seed)
    states = torch.tensor(g.gaussian(count * sizes[0])).view(count, sizes[0])
    if head == "gaussian":
        actions = torch.tensor(g.gaussian(count * sizes[-1])).view(count, sizes[-1])
    else:
        actions = torch.tensor([g.next() % sizes[-1] for _ in range(count)], dtype=torch.int64)
    advantages = torch.tensor(g.gaussian(count))
    return states, actions, advantages


def seeded_start(dimension, seed, scale=1e-4):
    """CGOptions.seededGaussian(scale:seed:): x0_i = scale * g_i, in float64."""
    return scale * torch.tensor(SeededGenerator(seed).gaussian(dimension))


def make_problem(sizes, head, count, dtype, parameter_seed=PARAMETER_SEED, batch_seed=BATCH_SEED):
    policy = Policy(sizes, head, dtype)
    theta = seeded_parameters(sizes, head, parameter_seed)
    policy.load_flat(theta.to(dtype))
    states, actions, advantages = seeded_batch(sizes, head, count, batch_seed)
    states, advantages = states.to(dtype), advantages.to(dtype)
    if head == "gaussian":
        actions = actions.to(dtype)
    with torch.no_grad():
        old_log_prob = policy.log_prob(policy.distribution(states), actions)
    return policy, states, actions, advantages, old_log_prob


# ----- Stable-Baselines3-contrib's algorithm ------------------------------------------------

def flat_grad(output, parameters, create_graph=False, retain_graph=False):
    """sb3_contrib/common/utils.py flat_grad."""
    grads = torch.autograd.grad(output, parameters, create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)
    return torch.cat([torch.ravel(g) for g in grads if g is not None])


def conjugate_gradient_solver(matrix_vector_dot_fn, b, x0, max_iter=10, residual_tol=1e-10):
    """sb3_contrib/common/utils.py conjugate_gradient_solver, with x0 given instead of
    1e-4 * th.randn_like(b). Returns (x, iterations)."""
    x = x0.clone()
    residual = b - matrix_vector_dot_fn(x)
    residual_squared_norm = torch.matmul(residual, residual)
    if residual_squared_norm < residual_tol:
        return x, 0
    p = residual.clone()
    for i in range(max_iter):
        A_dot_p = matrix_vector_dot_fn(p)
        alpha = residual_squared_norm / p.dot(A_dot_p)
        x += alpha * p
        if i == max_iter - 1:
            return x, i + 1
        residual -= alpha * A_dot_p
        new_residual_squared_norm = torch.matmul(residual, residual)
        if new_residual_squared_norm < residual_tol:
            return x, i + 1
        beta = new_residual_squared_norm / residual_squared_norm
        residual_squared_norm = new_residual_squared_norm
        p = residual + beta * p
    return x, max_iter


def hessian_vector_product(params, grad_kl, vector, damping, retain_graph=True):
    """TRPO.hessian_vector_product: the Fisher-vector product by double backpropagation."""
    jacobian_vector_product = (grad_kl * vector).sum()
    return flat_grad(jacobian_vector_product, params, retain_graph=retain_graph) + damping * vector


def surrogate_and_kl_graph(policy, states, actions, advantages, old_log_prob):
    """The start of TRPO.train: the old distribution, standardized advantages, the surrogate and
    the KL with their graphs."""
    with torch.no_grad():
        old_distribution = policy.distribution(states)
    distribution = policy.distribution(states)
    log_prob = policy.log_prob(distribution, actions)
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    ratio = torch.exp(log_prob - old_log_prob)
    policy_objective = (advantages * ratio).mean()
    kl_div = mean_kl(policy, distribution, old_distribution)
    return old_distribution, advantages, policy_objective, kl_div


def actor_gradients(policy, kl_div, policy_objective):
    """TRPO._compute_actor_grad: per-parameter gradients of the KL (with graph) and the surrogate."""
    policy_objective_gradients, grad_kl, grad_shape, actor_params = [], [], [], []
    for param in policy.actor_parameters():
        kl_param_grad, *_ = torch.autograd.grad(kl_div, param, create_graph=True, retain_graph=True, allow_unused=True, only_inputs=True)
        if kl_param_grad is not None:
            policy_objective_grad, *_ = torch.autograd.grad(policy_objective, param, retain_graph=True, only_inputs=True)
            grad_shape.append(kl_param_grad.shape)
            grad_kl.append(kl_param_grad.reshape(-1))
            policy_objective_gradients.append(policy_objective_grad.reshape(-1))
            actor_params.append(param)
    return actor_params, torch.cat(policy_objective_gradients), torch.cat(grad_kl), grad_shape


def trpo_update(policy, states, actions, advantages, old_log_prob, x0, target_kl=0.01, cg_damping=0.1,
                cg_max_steps=15, shrink=0.8, max_tries=10):
    """One policy update of TRPO.train. Returns a dict of what it did; the policy's parameters
    are left at the accepted point (or restored)."""
    old_distribution, advantages, policy_objective, kl_div = surrogate_and_kl_graph(policy, states, actions, advantages, old_log_prob)
    actor_params, gradient, grad_kl, grad_shape = actor_gradients(policy, kl_div, policy_objective)

    def hvp(v, retain_graph=True):
        return hessian_vector_product(actor_params, grad_kl, v, cg_damping, retain_graph=retain_graph)

    search_direction, iterations = conjugate_gradient_solver(hvp, gradient, x0.to(gradient.dtype), max_iter=cg_max_steps)
    quadratic_form = float(torch.matmul(search_direction, hvp(search_direction, retain_graph=False)))
    line_search_max_step_size = math.sqrt(2 * target_kl / quadratic_form)

    coefficient = 1.0
    original_actor_params = [param.detach().clone() for param in actor_params]
    accepted, tries, new_kl, new_objective = False, 0, 0.0, policy_objective.item()
    with torch.no_grad():
        for _ in range(max_tries):
            tries += 1
            start = 0
            for param, original, shape in zip(actor_params, original_actor_params, grad_shape):
                n = param.numel()
                param.data = original.data + coefficient * line_search_max_step_size * search_direction[start:start + n].view(shape)
                start += n
            distribution = policy.distribution(states)
            log_prob = policy.log_prob(distribution, actions)
            ratio = torch.exp(log_prob - old_log_prob)
            objective = (advantages * ratio).mean()
            kl = mean_kl(policy, distribution, old_distribution)
            if kl < target_kl and objective > policy_objective:
                accepted, new_kl, new_objective = True, float(kl), float(objective)
                break
            coefficient *= shrink
        if not accepted:
            for param, original in zip(actor_params, original_actor_params):
                param.data = original.data.clone()
    return dict(gradient=gradient.detach(), direction=search_direction.detach(), iterations=iterations,
                quadratic_form=quadratic_form, step_scale=line_search_max_step_size, accepted=accepted,
                coefficient=coefficient if accepted else 0.0, tries=tries, kl=new_kl,
                surrogate_before=policy_objective.item(), surrogate_after=new_objective)


def fisher_vector_product_setup(policy, states, actions, advantages, old_log_prob):
    """What one Fisher-vector product needs: the actor parameters and grad_kl with its graph."""
    _, _, policy_objective, kl_div = surrogate_and_kl_graph(policy, states, actions, advantages, old_log_prob)
    actor_params, _, grad_kl, _ = actor_gradients(policy, kl_div, policy_objective)
    return actor_params, grad_kl


# ----- timing -------------------------------------------------------------------------------

def median_time(run, repeats):
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="states N (default 5000)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, float32, N = {args.count}")
    print("policy                 threads  fvp_ms   update_ms  cg_iter  tries  kl        fvp_gflops")
    for sizes, head in (HALF_CHEETAH, CART_POLE):
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            policy, states, actions, advantages, old_log_prob = make_problem(sizes, head, args.count, torch.float32)
            theta = torch.cat([p.detach().reshape(-1) for p in policy.actor_parameters()]).clone()
            x0 = seeded_start(theta.numel(), CG_SEED).to(torch.float32)

            params, grad_kl = fisher_vector_product_setup(policy, states, actions, advantages, old_log_prob)
            v = torch.ones_like(theta)
            fvp = median_time(lambda: hessian_vector_product(params, grad_kl, v, 0.1), args.repeats)

            def update():
                policy.load_flat(theta)
                return trpo_update(policy, states, actions, advantages, old_log_prob, x0)
            step = median_time(update, args.repeats)
            result = update()
            # FisherOperator.flopsPerProduct: 4·N·n1·n0 + 8·N·sum over later layers of n_l·n_(l-1).
            flops = 4 * args.count * sum((2 if l > 1 else 1) * sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))
            name = "x".join(map(str, sizes)) + "-" + head
            print(f"{name:22} {threads:7d}  {fvp * 1e3:7.3f}  {step * 1e3:9.3f}  {result['iterations']:7d}  {result['tries']:5d}  "
                  f"{result['kl']:.6f}  {flops / fvp / 1e9:8.1f}")


if __name__ == "__main__":
    main()
