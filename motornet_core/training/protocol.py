"""Training protocols: blocks of iterations under their own perturbations, catch and channel trials.

Each block has its own :class:`FunctionalEnv` (the run's task with the block's perturbations); a
batch's trials are drawn as usual, then each trial's kind (:data:`FIELD`, :data:`CATCH`,
:data:`CHANNEL`) from the run's generator, and the load schedule is rewritten for the catch
(no load) and channel trials (no load but the channel). The closed loop itself is untouched.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from motornet_core.envs import EnvState
from motornet_core.envs.perturbations import LoadPlan
from motornet_core.losses import Trajectory
from motornet_core.specs.run import ProtocolSpec

FIELD, CATCH, CHANNEL = 0, 1, 2


def trial_kinds(batch: int, protocol: ProtocolSpec, generator: torch.Generator | None, like: Tensor) -> Tensor:
    """(B,) long: each trial's kind from one uniform draw u (u < catch_prob: CATCH, then CHANNEL, else FIELD)."""
    device = generator.device if generator is not None else like.device
    u = torch.rand(batch, generator=generator, dtype=torch.float64, device=device).to(like.device)
    kinds = torch.full((batch,), FIELD, dtype=torch.long, device=like.device)
    kinds[u < protocol.catch_prob] = CATCH
    kinds[(u >= protocol.catch_prob) & (u < protocol.catch_prob + protocol.channel_prob)] = CHANNEL
    return kinds


def apply_trial_kinds(plan: LoadPlan, kinds: Tensor, protocol: ProtocolSpec) -> LoadPlan:
    """``plan`` with catch trials' loads removed and channel trials' loads replaced by the channel."""
    keep = (kinds == FIELD).to(plan.curl.dtype)  # (B,)
    channel = (kinds == CHANNEL).to(plan.curl.dtype)
    return replace(
        plan,
        endpoint=plan.endpoint * keep[:, None, None],
        joint=plan.joint * keep[:, None, None],
        curl=plan.curl * keep[:, None],
        channel_k=plan.channel_k * keep[:, None] + channel[:, None] * protocol.channel_stiffness,
        channel_b=plan.channel_b * keep[:, None] + channel[:, None] * protocol.channel_damping,
    )


def with_trial_kinds(state: EnvState, kinds: Tensor, protocol: ProtocolSpec) -> EnvState:
    """The initial ``state`` of a batch with its load schedule rewritten by :func:`apply_trial_kinds`."""
    episode = replace(state.episode, loads=apply_trial_kinds(state.episode.loads, kinds, protocol))
    return replace(state, episode=episode)


@torch.no_grad()
def protocol_readouts(traj: Trajectory, plan: LoadPlan, kinds: Tensor, block: int) -> dict[str, float]:
    """Per-iteration learning-curve values of a training batch.

    Lateral deviations [m] are signed (left of the start-to-target direction positive), each
    trial's at its largest |deviation|, averaged over the trials of a kind; the channel force [N]
    is the lateral force the hand exerts on the channel (k d + b d', positive to the left) at its
    largest, averaged over channel trials. Kinds without trials in the batch are left out.

    Returns:
        ``protocol/block`` (index), ``protocol/lateral_deviation`` (field trials),
        ``protocol/catch_deviation``, ``protocol/channel_force``, ``protocol/field_fraction``
        (trials whose schedule has any load), ``protocol/catch_fraction``, ``protocol/channel_fraction``.
    """
    tip = traj.fingertip.detach()  # (B, T + 1, 4)
    start, normal = plan.channel_origin, plan.channel_normal  # (B, 2)
    lateral = ((tip[..., :2] - start[:, None]) * normal[:, None]).sum(-1)  # (B, T + 1) [m]
    lateral_vel = (tip[..., 2:] * normal[:, None]).sum(-1)
    peak = lateral.gather(1, lateral.abs().argmax(1, keepdim=True))[:, 0]  # (B,)
    k, b = plan.channel_k, plan.channel_b  # (B, T)
    force = k * lateral[:, :-1] + b * lateral_vel[:, :-1]  # (B, T) [N] the hand's push into the channel
    peak_force = force.gather(1, force.abs().argmax(1, keepdim=True))[:, 0]
    loaded = (plan.curl.abs() + plan.endpoint.abs().sum(-1) + plan.joint.abs().sum(-1)).sum(1) > 0  # (B,)
    out = {
        "protocol/block": float(block),
        "protocol/field_fraction": float(loaded.double().mean()),
        "protocol/catch_fraction": float((kinds == CATCH).double().mean()),
        "protocol/channel_fraction": float((kinds == CHANNEL).double().mean()),
    }
    for name, kind, values in (
        ("protocol/lateral_deviation", FIELD, peak),
        ("protocol/catch_deviation", CATCH, peak),
        ("protocol/channel_force", CHANNEL, peak_force),
    ):
        sel = kinds == kind
        if bool(sel.any()):
            out[name] = float(values[sel].double().mean())
    return out
