"""Policies: shapes, initial excitation near 0, initialisation, hidden noise, gradients."""

from __future__ import annotations

import pytest
import torch

from motornet_core.policies import POLICIES, build_policy
from motornet_core.specs import PolicySpec


@pytest.mark.parametrize("kind", sorted(POLICIES))
@pytest.mark.parametrize("layers", [1, 2])
def test_step_shapes_range_and_initial_excitation(kind: str, layers: int) -> None:
    torch.manual_seed(0)
    policy = build_policy(PolicySpec(kind=kind, hidden_size=16, n_layers=layers), n_inputs=12, n_outputs=4)
    h = policy.initial_state(5)
    state_size = 32 if kind == "lstm" else 16
    assert h.shape == (5, layers, state_size) and torch.all(h == 0)
    obs = torch.randn(5, 12) * 0.5
    action, h2 = policy(obs, h)
    assert action.shape == (5, 4) and h2.shape == h.shape
    assert torch.all((action > 0) & (action < 1))
    assert action.max().item() < 0.05  # sigmoid read-out with bias -5 starts near 0
    assert policy.activity(h2).shape == (5, 16)
    action.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in policy.parameters())


def test_gru_initialisation() -> None:
    policy = build_policy(PolicySpec(kind="gru", hidden_size=8), 5, 3)
    cell = policy.cells[0]
    for g in range(3):
        w = cell.weight_hh[g * 8 : (g + 1) * 8]
        torch.testing.assert_close(w @ w.T, torch.eye(8), atol=1e-5, rtol=0)  # orthogonal per gate
    assert torch.all(cell.bias_ih == 0) and torch.all(cell.bias_hh == 0)
    bound = (6 / (5 + 24)) ** 0.5  # Xavier-uniform bound of the (3H, I) input matrix
    assert cell.weight_ih.abs().max().item() <= bound
    assert torch.all(policy.readout.bias == -5.0)


def test_lstm_forget_bias_and_state_split() -> None:
    policy = build_policy(PolicySpec(kind="lstm", hidden_size=4), 3, 2)
    assert torch.all(policy.cells[0].bias_ih[4:8] == 1.0)
    h = policy.initial_state(2)
    _, h2 = policy(torch.ones(2, 3), h)
    # activity is the h half, bounded by tanh; c is the second half
    assert torch.all(policy.activity(h2).abs() < 1)
    assert torch.equal(policy.activity(h2), h2[:, -1, :4])


def test_hidden_noise_is_seeded_and_switchable() -> None:
    policy = build_policy(PolicySpec(kind="rnn", hidden_size=8, hidden_noise=0.1), 3, 2)
    obs, h = torch.ones(4, 3), policy.initial_state(4)
    quiet_a, _ = policy(obs, h, noise=False)
    quiet_b, _ = policy(obs, h, noise=False)
    assert torch.equal(quiet_a, quiet_b)
    _, n1 = policy(obs, h, generator=torch.Generator().manual_seed(1))
    _, n2 = policy(obs, h, generator=torch.Generator().manual_seed(1))
    _, n3 = policy(obs, h, generator=torch.Generator().manual_seed(2))
    _, q = policy(obs, h, noise=False)
    assert torch.equal(n1, n2) and not torch.equal(n1, n3)
    assert (n1 - q).std().item() == pytest.approx(0.1, rel=0.5)


def test_mlp_has_no_memory() -> None:
    policy = build_policy(PolicySpec(kind="mlp", hidden_size=8), 3, 2)
    obs = torch.randn(2, 3)
    a1, h1 = policy(obs, policy.initial_state(2))
    a2, _ = policy(obs, h1 + 5.0)
    assert torch.equal(a1, a2)
    gru = build_policy(PolicySpec(kind="gru", hidden_size=8), 3, 2)
    b1, g1 = gru(obs, gru.initial_state(2))
    b2, _ = gru(obs, g1)
    assert not torch.equal(b1, b2)
