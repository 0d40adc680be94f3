"""A training run's memory, estimated from its spec before it is queued, and the server's budget for it.

Backpropagation through time keeps every step's activations until the backward pass, so a run's
peak memory grows with ``batch_size x episode steps x (network state + effector state)``:

    bytes ~ 16 P                                         weights, gradients, Adam's two moments (float32)
          + R x B x T x (4 k H L + e(M))                 activations saved for backward

with P the policy's parameters (counted on PyTorch's ``meta`` device: nothing is allocated), R the
replicates trained together, B ``train.batch_size``, T ``task.duration / effector.dt``, H and L the
policy's ``hidden_size`` and ``n_layers``, k the floats a unit keeps per step (:data:`FLOATS_PER_UNIT`)
and e(M) the effector's bytes per trial and step for M muscles (:func:`effector_bytes`). The
constants were measured (peak RSS of one ``Trainer.train_step`` above the process before it, one
thread, this repository's 2-core VM): GRU 9.3, LSTM 11.7, RNN 4.3, MLP 3.5 floats per unit; the point
mass (4 muscles) 0.91 kB, arm26 (6) 2.3 kB and arm210 (10) 5.0 kB per trial and step. Check:
``tutorial_point_mass`` at batch 1024 and 8 s episodes peaked 1.40 GB, estimated 1.80 GB.
"""

from __future__ import annotations

import math

from backend.app.core.config import Settings
from motornet_core import SpecError
from motornet_core.specs import RunSpec

FLOATS_PER_UNIT = {"gru": 10.0, "lstm": 12.0, "rnn": 5.0, "mlp": 4.0}
"""float32 values a hidden unit keeps per trial and step for the backward pass (measured, rounded up)."""


def effector_bytes(n_muscles: int) -> float:
    """Bytes the effector and task keep per trial and step for the backward pass (fit to the three built-in
    effectors: 680 per muscle less 1.8 kB, at least 0.6 kB)."""
    return max(600.0, 680.0 * n_muscles - 1800.0)


def parameter_count(spec: RunSpec) -> int:
    """The policy's parameters, counted on the ``meta`` device (no memory allocated, no weights drawn)."""
    import torch

    from motornet_core.policies import policy_for_run

    with torch.device("meta"):
        policy = policy_for_run(spec)
    return sum(p.numel() for p in policy.parameters())


MULTI_AREA_MARGIN = 1.5
"""multi_area: its areas' cells' floats are scaled by this for the leak, masks and delay lines (not measured)."""


def network_floats(spec: RunSpec) -> float:
    """float32 values the policy keeps per trial and step for the backward pass (k H L; multi_area: the sum
    over its areas of k size, times :data:`MULTI_AREA_MARGIN`)."""
    p = spec.policy
    if p.kind == "multi_area":
        return MULTI_AREA_MARGIN * sum(FLOATS_PER_UNIT[a.kind] * a.size for a in p.areas)
    return FLOATS_PER_UNIT[p.kind] * p.hidden_size * p.n_layers


def estimate_run_memory(spec: RunSpec, replicates: int | None = None) -> float:
    """Estimated peak memory [bytes] of training ``spec`` (``replicates`` networks at once; default the spec's)."""
    t = spec.train
    n = replicates if replicates is not None else t.replicates
    steps = max(1, math.ceil(spec.task.duration / spec.effector.dt))
    per_step = 4.0 * network_floats(spec) + effector_bytes(spec.effector.n_muscles)
    return n * (16.0 * parameter_count(spec) + t.batch_size * steps * per_step)


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def check_run_memory(spec: RunSpec, settings: Settings, replicates: int | None = None, prefix: str = "") -> float:
    """Refuse a spec whose estimated memory is beyond ``settings.max_run_memory_bytes``; returns the estimate.

    Raises:
        SpecError: one error per field that drives the estimate (``train.batch_size``, ``task.duration``,
            ``policy.hidden_size``, ``policy.n_layers``, and ``train.replicates`` above 1), paths
            prefixed with ``prefix``.
    """
    need = estimate_run_memory(spec, replicates)
    budget = settings.max_run_memory_bytes
    if need <= budget:
        return need
    n = replicates if replicates is not None else spec.train.replicates
    msg = (
        f"the run needs about {_size(need)} of memory (weights, optimiser and the activations that backpropagation "
        f"through time keeps: batch_size x episode steps x network and effector state{f' x {n} networks' if n > 1 else ''}); "
        f"this server allows {_size(budget)} per run (MOTORNET_STUDIO_MAX_RUN_MEMORY_BYTES): lower this field"
    )
    fields: list[tuple[str, object]] = [("train.batch_size", spec.train.batch_size), ("task.duration", spec.task.duration)]
    if spec.policy.kind == "multi_area":
        fields += [(f"policy.areas.{i}.size", a.size) for i, a in enumerate(spec.policy.areas)]
    else:
        fields += [("policy.hidden_size", spec.policy.hidden_size), ("policy.n_layers", spec.policy.n_layers)]
    if n > 1:
        fields.append(("train.replicates" if replicates is None else "seeds", n))
    raise SpecError([{"loc": f"{prefix}{loc}", "msg": msg, "input": value} for loc, value in fields])
