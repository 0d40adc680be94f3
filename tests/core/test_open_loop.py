"""OpenLoop: compiled chunks of effector steps give the eager loop's states and gradients."""

from __future__ import annotations

import pytest
import torch

import motornet_core.open_loop
from motornet_core import OpenLoop, build_effector, presets


@pytest.mark.slow
def test_compiled_chunks_match_the_eager_steps_and_their_gradients():
    torch._dynamo.reset()  # compiled code of earlier tests would count as a recompilation below
    eff = build_effector(presets.arm26())
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(3, 11, 6, generator=gen).requires_grad_()
    loads = torch.randn(3, 11, 2, generator=gen)
    start = torch.tensor([[0.8, 1.5], [0.6, 1.2], [1.0, 1.8]])
    eager = eff.rollout(eff.reset(3, position=start), u, endpoint_loads=loads)
    (g_eager,) = torch.autograd.grad(eager[-1].fingertip[:, :2].sum(), u)
    loop = OpenLoop(eff, compile=True, chunk=3)
    with torch._dynamo.config.patch(error_on_recompile=True):  # one variant with gradients
        sim = loop.run(eff.reset(3, position=start), u, endpoint_loads=loads)
    (g_sim,) = torch.autograd.grad(sim.state.fingertip[:, :2].sum(), u)
    assert sim.fingertip.shape == (3, 12, 4) and sim.position.shape == (3, 12, 2) and sim.activation.shape == (3, 12, 6)
    torch.testing.assert_close(sim.fingertip, torch.stack([s.fingertip for s in eager], 1), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(sim.state.muscle.force, eager[-1].muscle.force, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g_sim, g_eager, rtol=1e-4, atol=1e-6)
    assert g_sim.abs().sum() > 0
    with torch.no_grad():  # no gradients: chunks from the first step
        quiet = loop.run(eff.reset(3, position=start), u.detach(), endpoint_loads=loads)
    torch.testing.assert_close(quiet.position, sim.position.detach(), rtol=1e-5, atol=1e-6)


def test_by_default_runs_with_gradients_take_the_native_eager_step_and_others_compile():
    """compile=None: with gradients, an effector with a native C step runs eagerly (faster there, no
    compilation); forward-only runs, and effectors without a native step, compile."""
    arm = build_effector(presets.arm26())
    loop = OpenLoop(arm)
    s0 = arm.reset(2, position=torch.tensor([0.8, 1.5]))
    assert arm.native_kernel(s0.position) == "arm26"
    assert not loop.compiles(s0, needs_grad=True)
    assert loop.compiles(s0, needs_grad=False)
    assert OpenLoop(arm, compile=True).compiles(s0, needs_grad=True)
    assert not OpenLoop(arm, compile=False).compiles(s0, needs_grad=False)
    u = torch.full((2, 5, 6), 0.3, requires_grad=True)
    sim = loop.run(s0, u)  # eager: no compilation, the native step's autograd node
    assert sim.state.fingertip.grad_fn is not None and "Native" in type(sim.state.fingertip.grad_fn).__name__
    compliant = build_effector(presets.arm26_compliant())
    s1 = compliant.reset(2, position=torch.tensor([0.8, 1.5]))
    assert compliant.native_kernel(s1.position) is None and OpenLoop(compliant).compiles(s1, needs_grad=True)


def test_trajectories_are_joined_when_first_read_and_then_kept():
    """A run whose trajectories nobody reads concatenates nothing; reading one gives every step."""
    eff = build_effector(presets.arm26())
    u = torch.rand(2, 7, 6, generator=torch.Generator().manual_seed(3))
    start = eff.reset(2, position=torch.tensor([0.8, 1.5]))
    loop = OpenLoop(eff, compile=False)
    loop.run(start, u)  # (the first step packs the C step's constants)
    with torch.profiler.profile() as prof:
        sim = loop.run(start, u)
    assert "aten::cat" not in {e.name for e in prof.events()}
    steps = eff.rollout(start, u)
    torch.testing.assert_close(sim.state.position, steps[-1].position, rtol=0, atol=0)
    assert sim.fingertip.shape == (2, 8, 4) and sim.fingertip is sim.fingertip
    torch.testing.assert_close(sim.fingertip, torch.stack([s.fingertip for s in steps], 1), rtol=0, atol=0)
    torch.testing.assert_close(sim.activation, torch.stack([s.muscle.activation for s in steps], 1), rtol=0, atol=0)
    torch.testing.assert_close(sim.position, torch.stack([s.position for s in steps], 1), rtol=0, atol=0)


def test_open_loop_checks_its_arguments():
    eff = build_effector(presets.point_mass_24())
    with pytest.raises(ValueError, match="chunk"):
        OpenLoop(eff, chunk=0)
    loop = OpenLoop(eff, compile=False)
    with pytest.raises(ValueError, match="endpoint_loads has 2 steps, the excitations 3"):
        loop.run(eff.reset(1), torch.zeros(1, 3, 4), endpoint_loads=torch.zeros(1, 2, 2))
    sim = loop.run(eff.reset(1), [torch.ones(1, 4) * 0.5] * 3)
    assert sim.fingertip.shape == (1, 4, 4)


SCALAR_PROBE = """
import json, sys
import torch
from torch._inductor import cpu_vec_isa
from torch._inductor.utils import run_and_get_code
import motornet_core

if sys.argv[1] == "scalar":
    took = motornet_core.prefer_scalar_cpu_kernels()
    _, code = run_and_get_code(torch.compile(lambda x: (x.sin() * 2 + x.cos()).sum(1)), torch.randn(64, 24))
    print(json.dumps({"took": took, "vectorised": any("at::vec" in c for c in code)}))
else:  # what compiling a CPU graph does first: list the vector instruction sets
    simd = bool(cpu_vec_isa.valid_vec_isa_list())
    print(json.dumps({"took": motornet_core.prefer_scalar_cpu_kernels(), "simd": simd}))
"""


@pytest.mark.slow
def test_prefer_scalar_cpu_kernels_is_process_wide_and_says_when_too_late():
    import json
    import subprocess
    import sys

    results = {}
    for case in ("scalar", "late"):
        proc = subprocess.run([sys.executable, "-c", SCALAR_PROBE, case], capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["scalar"] == {"took": True, "vectorised": False}
    assert results["late"]["took"] is not results["late"]["simd"]  # too late exactly when SIMD was found


KERNEL_CHOICE_PROBE = """
import json, sys
from torch._inductor import config
import motornet_core

chose = motornet_core.choose_cpu_kernels(int(sys.argv[1]))
print(json.dumps({"scalar": chose, "vec_isa_ok": config.cpp.vec_isa_ok}))
"""


def test_choose_cpu_kernels_keeps_vectorised_kernels_for_wide_training_graphs():
    import json
    import subprocess
    import sys

    seen = {}
    for rows in (32, motornet_core.open_loop.VECTOR_KERNEL_ROWS):  # 32: the tutorial; 128: 4 replicates
        proc = subprocess.run([sys.executable, "-c", KERNEL_CHOICE_PROBE, str(rows)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen[rows] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen[32] == {"scalar": True, "vec_isa_ok": False}
    assert seen[motornet_core.open_loop.VECTOR_KERNEL_ROWS]["scalar"] is False
    assert seen[motornet_core.open_loop.VECTOR_KERNEL_ROWS]["vec_isa_ok"] is not False
