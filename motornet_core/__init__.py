"""motornet_core: differentiable biomechanical effectors in PyTorch.

Public API::

    from motornet_core import EffectorSpec, build_effector, presets
    eff = build_effector(presets.arm26())

Importing it registers the Gymnasium ids (``gymnasium.make("MotorNet/Reach-v0")``).
"""

from __future__ import annotations

from motornet_core import presets
from motornet_core.effector import Effector, Loads
from motornet_core.errors import MotornetError, SimulationError, SpecError
from motornet_core.gym_ids import register_envs
from motornet_core.open_loop import OpenLoop, Simulation, choose_cpu_kernels, prefer_scalar_cpu_kernels
from motornet_core.specs import EffectorSpec, LossSpec, PolicySpec, RunSpec, TaskSpec, TrainSpec, parse_task
from motornet_core.state import EffectorState, GeometryState, MuscleState

__version__ = "0.1.0"  # the one source of the version: pyproject.toml, the API and the CLI read it

register_envs()  # gymnasium.make("MotorNet/Reach-v0") after `import motornet_core`; envs load on make


def build_effector(spec: EffectorSpec | dict | str) -> Effector:
    """Build an :class:`Effector` from a spec (an instance, a dict or a JSON string).

    Raises:
        SpecError: the spec is invalid; ``errors`` names each bad field and value.
    """
    return Effector(EffectorSpec.parse(spec))


__all__ = [
    "LossSpec",
    "PolicySpec",
    "RunSpec",
    "TaskSpec",
    "TrainSpec",
    "Effector",
    "EffectorSpec",
    "EffectorState",
    "GeometryState",
    "Loads",
    "MotornetError",
    "MuscleState",
    "OpenLoop",
    "Simulation",
    "SimulationError",
    "SpecError",
    "__version__",
    "build_effector",
    "parse_task",
    "prefer_scalar_cpu_kernels",
    "choose_cpu_kernels",
    "presets",
]
