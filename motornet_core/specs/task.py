"""Task specification: what the effector must do, what the network senses, and the perturbations.

A task is a union discriminated on ``kind``; every kind shares the fields of :class:`_TaskBase`
(episode duration, sensory delays, noise, action frame stacking, perturbations). Times are in
seconds, distances in metres, forces in newtons. Conventions follow physics.md §10.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, TypeAdapter, model_validator

from motornet_core.specs.base import SpecModel, fail, validate_spec

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Noise = Union[Annotated[float, Field(ge=0.0, le=100.0)], list[Annotated[float, Field(ge=0.0, le=100.0)]]]


# ----------------------------------------------------------------------------------------------
# Perturbations


class _PerturbationBase(SpecModel):
    probability: Prob = Field(1.0, description="fraction of trials that receive this perturbation")
    start: NonNeg = Field(0.0, description="onset within the episode [s]")
    end: NonNeg | None = Field(None, description="offset within the episode [s]; None: until the end")

    @model_validator(mode="after")
    def _window(self) -> _PerturbationBase:
        if self.end is not None and self.end <= self.start:
            raise fail("end", f"must be after start ({self.start} s)", self.end)
        return self


class CurlFieldSpec(_PerturbationBase):
    """Velocity-dependent curl field F = k [ydot, -xdot] (k > 0 turns the hand clockwise)."""

    kind: Literal["curl_field"] = "curl_field"
    gain: NonNeg = Field(10.0, le=1000.0, description="field strength |k| [N s/m]")
    direction: Literal["cw", "ccw"] = Field("cw", description="cw: k = +gain, ccw: k = -gain")


class ForceFieldSpec(_PerturbationBase):
    """A constant force field at the fingertip (the same force on every perturbed trial)."""

    kind: Literal["force_field"] = "force_field"
    force: list[float] = Field(default_factory=lambda: [0.0, -5.0], min_length=2, max_length=2, description="[N] (x, y)")


class EndpointLoadSpec(_PerturbationBase):
    """A step load at the fingertip of fixed magnitude, in a fixed or a random direction per trial."""

    kind: Literal["endpoint_load"] = "endpoint_load"
    magnitude: NonNeg = Field(5.0, le=1000.0, description="[N]")
    angle: float | None = Field(None, ge=-360.0, le=360.0, description="direction [deg]; None: uniform random per trial")


class JointLoadSpec(_PerturbationBase):
    """Constant joint torques (point mass: forces) during the window."""

    kind: Literal["joint_load"] = "joint_load"
    torque: list[float] = Field(min_length=1, max_length=8, description="one value per joint [N m] (point mass: [N])")


class ForceChannelSpec(_PerturbationBase):
    """A stiff channel through the start: a spring-damper against motion across its axis.

    The axis points at ``angle`` or, without one, from the start to the target; posture and
    tracking tasks (start = target, or no single target) need the ``angle``.
    """

    kind: Literal["force_channel"] = "force_channel"
    stiffness: NonNeg = Field(2000.0, le=1e5, description="lateral stiffness [N/m]")
    damping: NonNeg = Field(50.0, le=1e4, description="lateral damping [N s/m]")
    angle: float | None = Field(
        None, ge=-360.0, le=360.0, description="direction of the channel's axis [deg]; None: from the start to the target"
    )


PerturbationSpec = Annotated[
    Union[CurlFieldSpec, ForceFieldSpec, EndpointLoadSpec, JointLoadSpec, ForceChannelSpec],
    Field(discriminator="kind"),
]


# ----------------------------------------------------------------------------------------------
# Tasks


class _TaskBase(SpecModel):
    duration: float = Field(1.0, gt=0.0, le=20.0, description="episode duration [s]")
    vision_delay: NonNeg = Field(0.0, le=1.0, description="lag of the visual fingertip signal [s], a multiple of dt")
    proprioception_delay: NonNeg = Field(0.0, le=1.0, description="lag of muscle length/velocity signals [s], a multiple of dt")
    action_noise: Noise = Field(0.0, description="std of the noise added to the action (scalar or one per muscle)")
    vision_noise: NonNeg = Field(0.0, le=100.0, description="std of the noise on the visual signal [m]")
    proprioception_noise: NonNeg = Field(0.0, le=100.0, description="std of the noise on proprioceptive signals")
    obs_noise: Noise = Field(
        0.0, description="std of the noise on the observation (scalar or one per entry); task inputs get none"
    )
    action_frame_stacking: int = Field(0, ge=0, le=20, description="how many past actions are appended to the observation")
    effort_weight: NonNeg = Field(0.0, le=1e3, description="RL reward: weight of the mean squared action")
    perturbations: list[PerturbationSpec] = Field(default_factory=list, max_length=16)

    @model_validator(mode="after")
    def _channel_axes(self) -> _TaskBase:
        channels = [(i, p) for i, p in enumerate(self.perturbations) if isinstance(p, ForceChannelSpec)]
        kind = getattr(self, "kind", "")
        for i, p in channels:
            if p.angle is None and kind in ("posture", "tracking"):
                raise fail(f"perturbations.{i}.angle", f"is needed in a {kind} task (it has no start-to-target axis)", None)
        if len({None if p.angle is None else round(p.angle % 180.0, 9) for _, p in channels}) > 1:
            i, p = channels[-1]
            raise fail(f"perturbations.{i}.angle", "the force channels of a task must share one axis", p.angle)
        return self


class RandomReachSpec(_TaskBase):
    """MotorNet's RandomTargetReach: random start, goal = fingertip of another random joint state."""

    kind: Literal["random_reach"] = "random_reach"


class CentreOutSpec(_TaskBase):
    """Reach from a centre to one of ``n_targets`` evenly spaced targets on a circle."""

    kind: Literal["centre_out"] = "centre_out"
    n_targets: int = Field(8, ge=1, le=64, description="targets evenly spaced on the circle, the first at 0 deg")
    radius: float = Field(0.1, gt=0.0, le=2.0, description="reach distance [m]")
    centre_joint: list[float] | None = Field(None, description="start joint position [rad or m]; None: middle of the bounds")
    delay_min: NonNeg = Field(0.0, le=10.0, description="shortest instructed delay before the go cue [s]")
    delay_max: NonNeg = Field(0.0, le=10.0, description="longest instructed delay [s]")
    go_cue: bool = Field(False, description="add a go-cue input (0 before the cue, 1 after)")
    catch_probability: Prob = Field(0.0, description="fraction of trials without a go cue (the hand must stay)")

    @model_validator(mode="after")
    def _delays(self) -> CentreOutSpec:
        if self.delay_max < self.delay_min:
            raise fail("delay_max", f"must be >= delay_min ({self.delay_min})", self.delay_max)
        if self.delay_max >= self.duration:
            raise fail("delay_max", f"must be shorter than the episode ({self.duration} s)", self.delay_max)
        if self.catch_probability > 0 and not self.go_cue:
            raise fail("catch_probability", "catch trials need go_cue = true", self.catch_probability)
        return self


class PostureSpec(_TaskBase):
    """Hold the start position against endpoint loads of chosen directions and magnitudes."""

    kind: Literal["posture"] = "posture"
    centre_joint: list[float] | None = Field(None, description="hold position [rad or m]; None: random within bounds")
    load_directions: int = Field(8, ge=1, le=64, description="evenly spaced load directions")
    load_magnitudes: list[Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=lambda: [2.0, 4.0], min_length=1, max_length=16, description="[N]"
    )
    onset_min: NonNeg = Field(0.2, le=20.0, description="earliest load onset [s]")
    onset_max: NonNeg = Field(0.4, le=20.0, description="latest load onset [s]")
    load_duration: float = Field(0.3, gt=0.0, le=20.0, description="[s]")
    load_probability: Prob = Field(0.8, description="fraction of trials that get a load")

    @model_validator(mode="after")
    def _onsets(self) -> PostureSpec:
        if self.onset_max < self.onset_min:
            raise fail("onset_max", f"must be >= onset_min ({self.onset_min})", self.onset_max)
        if self.onset_max >= self.duration:
            raise fail("onset_max", f"must be shorter than the episode ({self.duration} s)", self.onset_max)
        return self


class TrackingSpec(_TaskBase):
    """Follow a target moving on a Lissajous path around the centre."""

    kind: Literal["tracking"] = "tracking"
    centre_joint: list[float] | None = Field(None, description="centre of the path [rad or m]; None: middle of the bounds")
    amplitude: float = Field(0.05, gt=0.0, le=1.0, description="[m]")
    freq_min: float = Field(0.5, gt=0.0, le=20.0, description="lowest frequency per axis [Hz]")
    freq_max: float = Field(1.0, gt=0.0, le=20.0, description="highest frequency per axis [Hz]")

    @model_validator(mode="after")
    def _freqs(self) -> TrackingSpec:
        if self.freq_max < self.freq_min:
            raise fail("freq_max", f"must be >= freq_min ({self.freq_min})", self.freq_max)
        return self


AnyTask = Union[RandomReachSpec, CentreOutSpec, PostureSpec, TrackingSpec]
TaskSpec = Annotated[AnyTask, Field(discriminator="kind")]


_TASK_ADAPTER: TypeAdapter[AnyTask] = TypeAdapter(TaskSpec)


def parse_task(data: object) -> AnyTask:
    """Validate a task spec given as an instance, a dict or a JSON string; raise SpecError if invalid."""
    if isinstance(data, (RandomReachSpec, CentreOutSpec, PostureSpec, TrackingSpec)):
        return data
    task: AnyTask = validate_spec(_TASK_ADAPTER.validate_python, data)
    return task
