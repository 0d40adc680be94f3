"""Dynamics of a recurrent network: fixed and slow points, trajectory tangling, population trajectories.

Fixed points follow Sussillo & Barak (2013): for the network's state map h_{t+1} = F(h_t, u) with the
input u held constant, minimise q(h) = 0.5 |F(h, u) - h|^2 from many initial states (sampled from
the network's own trajectories), keep the minima with q below a tolerance (fixed points, q ~ 0, and
slow points), merge those closer than a distance, and linearise F at each: the Jacobian dF/dh and its
eigenvalues (a discrete-time map: |lambda| < 1 is a stable direction).

Tangling follows Russo et al. (2018): Q(t) = max_t' |x'(t) - x'(t')|^2 / (|x(t) - x(t')|^2 + eps),
with eps = 0.1 x the total variance of x (the sum of the variances of its dimensions), t' ranging
over every time of every condition, and x the population state projected on its leading principal
components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from motornet_core.analysis.neural import pca

StateMap = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class FixedPoints:
    """Fixed and slow points of a state map, K of them after merging.

    Attributes:
        points: (K, S) states.
        q: (K,) speed q(h) = 0.5 |F(h) - h|^2 at each.
        jacobians: (K, S, S) dF/dh at each point.
        eigenvalues: (K, S) complex eigenvalues of each Jacobian, by decreasing modulus.
        stable: (K,) every |lambda| < 1.
        candidate_q: (N,) q reached from every initial state (kept or not), for diagnostics.
    """

    points: np.ndarray
    q: np.ndarray
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    candidate_q: np.ndarray


def speed(step: StateMap, h: Tensor) -> Tensor:
    """q(h) = 0.5 |F(h) - h|^2 for a batch of states h (N, S); returns (N,)."""
    return 0.5 * (step(h) - h).pow(2).sum(-1)


def find_fixed_points(
    step: StateMap,
    initial_states: Tensor,
    n_iterations: int = 2000,
    lr: float = 1e-2,
    q_tolerance: float = 1e-6,
    unique_distance: float = 1e-3,
) -> FixedPoints:
    """Minimise q from every initial state with Adam; keep q < ``q_tolerance``; merge; linearise.

    Args:
        step: the state map F, batched: (N, S) -> (N, S), differentiable (inputs held fixed in it).
        initial_states: (N, S) where the searches start.
        n_iterations: Adam steps (the searches are independent: the summed q has a block-diagonal Hessian).
        lr: Adam learning rate.
        q_tolerance: the largest q kept (fixed points: q near 0; a larger value keeps slow points).
        unique_distance: points closer than this (Euclidean) are one point (the slowest is kept).

    Returns:
        :class:`FixedPoints`, sorted by increasing q.
    """
    if initial_states.ndim != 2:
        raise ValueError(f"initial_states must be (N, S), got shape {tuple(initial_states.shape)}")
    h = initial_states.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([h], lr=lr)
    for _ in range(n_iterations):
        opt.zero_grad(set_to_none=True)
        speed(step, h).sum().backward()
        opt.step()
    h = h.detach()
    with torch.no_grad():
        q = speed(step, h)
    order = torch.argsort(q)
    kept: list[int] = []
    for i in order.tolist():
        if float(q[i]) >= q_tolerance:
            break
        if all(float((h[i] - h[j]).norm()) > unique_distance for j in kept):
            kept.append(i)
    size = h.shape[1]
    if kept:
        points = h[kept]
        jac = torch.stack([torch.func.jacrev(lambda x: step(x[None])[0])(p) for p in points])  # (K, S, S)
        eig = torch.linalg.eigvals(jac.double())  # (K, S)
        eig = torch.gather(eig, 1, torch.argsort(eig.abs(), dim=1, descending=True))
        eig_np = eig.numpy()
        return FixedPoints(
            points=points.double().numpy(),
            q=q[kept].double().numpy(),
            jacobians=jac.double().numpy(),
            eigenvalues=eig_np,
            stable=(np.abs(eig_np) < 1).all(1),
            candidate_q=q.double().numpy(),
        )
    return FixedPoints(
        points=np.zeros((0, size)),
        q=np.zeros(0),
        jacobians=np.zeros((0, size, size)),
        eigenvalues=np.zeros((0, size), complex),
        stable=np.zeros(0, bool),
        candidate_q=q.double().numpy(),
    )


def tangling(states: ArrayLike, dt: float, eps_fraction: float = 0.1, eps: float | None = None) -> np.ndarray:
    """Trajectory tangling Q(t) of Russo et al. (2018).

    Args:
        states: (C, T, D) conditions x times x dimensions (or (T, D), one condition), sampled every ``dt``.
        dt: sampling step [s]; derivatives are central differences (one-sided at the ends).
        eps_fraction: eps = ``eps_fraction`` x the total variance of the states (the paper: 0.1).
        eps: an absolute eps [squared state units] in place of the fraction, e.g. one taken from a
            reference set of trajectories so that two sets are compared with the same eps.

    Returns:
        (C, T) (or (T,)) Q(t) [1/s^2], the max over every time t' of every condition.
    """
    x = np.asarray(states, float)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3 or x.shape[1] < 2:
        raise ValueError(f"states must be (C, T, D) or (T, D) with T >= 2, got shape {np.shape(states)}")
    if dt <= 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    if eps is not None and not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    c, t, d = x.shape
    dx = np.gradient(x, dt, axis=1)
    flat, dflat = x.reshape(-1, d), dx.reshape(-1, d)
    # constant states (no variance): eps would be 0 and 0/0 undefined; they are untangled (Q = 0)
    if eps is None:
        eps = max(eps_fraction * flat.var(0).sum(), np.finfo(float).tiny)
    q = np.empty(c * t)
    for start in range(0, c * t, 512):  # row blocks keep the pairwise matrices small
        sl = slice(start, start + 512)
        num = ((dflat[sl, None, :] - dflat[None, :, :]) ** 2).sum(-1)
        den = ((flat[sl, None, :] - flat[None, :, :]) ** 2).sum(-1) + eps
        q[sl] = (num / den).max(1)
    out = q.reshape(c, t)
    return out[0] if single else out


def population_trajectories(hidden: ArrayLike, n_components: int = 3) -> dict[str, Any]:
    """PCA of unit activity pooled over conditions and time, and each condition's trajectory in it.

    Args:
        hidden: (C, T, H) activity per condition.
        n_components: k.

    Returns:
        :func:`~motornet_core.analysis.neural.pca`'s result; ``projection`` is (C, T, k).
    """
    x = np.asarray(hidden, float)
    if x.ndim != 3:
        raise ValueError(f"hidden must be (C, T, H), got shape {x.shape}")
    return pca(x, n_components)
