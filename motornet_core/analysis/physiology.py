"""Is a muscle sized for its path? Fibre length, tendon strain and resting force at given postures.

A muscle whose optimal fibre length and tendon slack length are far shorter than its musculotendon
path sits on the steep part of its passive force-length curve: at zero excitation it pulls with
many times its maximal isometric force and the skeleton jams at its limits. These functions
evaluate each muscle model at rest (minimal activation, zero velocity) and flag such values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from motornet_core.effector import Effector

# plausible operating ranges (Zajac 1989; Gollapudi & Lin 2009: fibres work at ~0.5-1.6 l0_ce,
# tendons strain a few percent at F_max); beyond them a spec is almost certainly mis-sized
FIBRE_RANGE_REFERENCE = (0.5, 1.5)  # normalised fibre length at the reference posture
# anywhere within the joint bounds only over-long fibres count: a muscle going slack near a joint
# limit (arm210's brachioradialis) is harmless
FIBRE_RANGE_SWEEP = (0.0, 1.9)
MAX_TENDON_STRAIN = 0.1  # [1] (L_t - l0_se) / l0_se
MAX_REST_FORCE_REFERENCE = 0.5  # [F_max] force at minimal activation, reference posture
MAX_REST_FORCE_SWEEP = 2.0  # [F_max] anywhere within the joint bounds


@dataclass(frozen=True)
class MusclePhysiology:
    """Muscle quantities at rest for B postures.

    Attributes:
        fibre_length: (B, M) fibre length / optimal fibre length l0_ce.
        tendon_strain: (B, M) (L_mt - l_ce - l0_se) / l0_se; rigid tendons never stretch (0), and
            are negative where the path is shorter than the tendon slack length (a slack muscle).
        rest_force: (B, M) [F_max] force at minimal activation and zero velocity (mostly passive).
    """

    fibre_length: Tensor
    tendon_strain: Tensor
    rest_force: Tensor


@dataclass(frozen=True)
class PhysiologyWarning:
    """One implausible value: the muscle index and name, the quantity, its value and a message."""

    muscle: int
    name: str
    quantity: str
    value: float
    message: str


@torch.no_grad()
def muscle_physiology(eff: Effector, q: Tensor) -> MusclePhysiology | None:
    """Fibre length, tendon strain and resting force at joint positions ``q`` (B, n) [rad or m].

    Returns None for muscle models without fibres (relu), which have no lengths to check.
    """
    mus = eff.muscles
    l0_se = getattr(mus, "l0_se", None)
    if not isinstance(l0_se, Tensor):
        return None
    q = q.to(dtype=eff.dtype, device=eff.device)
    geometry = eff.geometry(q, torch.zeros_like(q), eff.skeleton)
    state = mus.initial_state(geometry, eff.dt)
    tendon = geometry.length - state.length  # (B, M) [m]
    strain = torch.where(l0_se > 0, (tendon - l0_se) / torch.clamp(l0_se, min=1e-9), torch.zeros_like(tendon))
    if not mus.has_fibre_state:  # rigid tendon: taut (0) or slack (< 0), never stretched
        strain = torch.clamp(strain, max=0.0)
    return MusclePhysiology(
        fibre_length=state.length / mus.l0_ce,
        tendon_strain=strain,
        rest_force=state.force / mus.max_iso_force,
    )


def _extreme(x: Tensor, lo: float, hi: float) -> Tensor:
    """(M,) per muscle the value furthest outside [lo, hi] (the max when above, else the min)."""
    top, bottom = x.max(dim=0).values, x.min(dim=0).values
    return torch.where(top - hi >= lo - bottom, top, bottom)


def physiology_warnings(eff: Effector, reference: Tensor, sweep: Tensor | None = None) -> list[PhysiologyWarning]:
    """Warnings for implausible muscle values at the ``reference`` posture (n,) and over ``sweep`` (G, n).

    Checked: normalised fibre length, tendon strain and the resting force (see the module's
    ranges); one warning per muscle and quantity, the reference posture first.
    """
    names = eff.muscle_names
    out: list[PhysiologyWarning] = []
    seen: set[tuple[int, str]] = set()

    def add(where: str, phys: MusclePhysiology, fibre: tuple[float, float], force: float) -> None:
        checks = (
            ("fibre_length", _extreme(phys.fibre_length, *fibre), fibre, "fibre length {v:.3g} x optimal"),
            ("tendon_strain", phys.tendon_strain.max(dim=0).values, (-1.0, MAX_TENDON_STRAIN), "tendon strain {p:.3g} %"),
            ("rest_force", phys.rest_force.max(dim=0).values, (-1.0, force), "force at rest {v:.3g} x F_max"),
        )
        for quantity, values, (lo, hi), text in checks:
            for m, v in enumerate(values.tolist()):
                if (m, quantity) in seen or lo <= v <= hi:
                    continue
                seen.add((m, quantity))
                message = text.format(v=v, p=100 * v) + f" {where} (plausible {lo:g} to {hi:g})"
                if quantity == "rest_force":
                    message = text.format(v=v) + f" {where} (plausible below {hi:g})"
                if quantity == "tendon_strain":
                    message = text.format(p=100 * v) + f" {where} (plausible below {100 * hi:g} %)"
                out.append(PhysiologyWarning(m, names[m], quantity, float(v), message))

    ref = muscle_physiology(eff, reference.reshape(1, -1))
    if ref is None:
        return out
    add("at the reference posture", ref, FIBRE_RANGE_REFERENCE, MAX_REST_FORCE_REFERENCE)
    if sweep is not None:
        over = muscle_physiology(eff, sweep)
        if over is not None:
            add("within the joint bounds", over, FIBRE_RANGE_SWEEP, MAX_REST_FORCE_SWEEP)
    return out
