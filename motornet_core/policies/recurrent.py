"""Recurrent policies: GRU, vanilla tanh RNN and LSTM, and a feed-forward MLP.

Initialisation: input weights Xavier-uniform (Glorot & Bengio 2010), recurrent weights orthogonal
per gate (Saxe, McClelland & Ganguli 2014), biases 0 (LSTM forget gate 1, Jozefowicz et al. 2015).
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motornet_core.kernels import gru_cell
from motornet_core.policies.base import Policy
from motornet_core.specs.run import PolicySpec, RunSpec, observation_groups, observation_size


def _init_cell(cell: nn.RNNCellBase, gates: int, hidden: int) -> None:
    nn.init.xavier_uniform_(cell.weight_ih)
    for g in range(gates):
        nn.init.orthogonal_(cell.weight_hh.data[g * hidden : (g + 1) * hidden])
    nn.init.zeros_(cell.bias_ih)
    nn.init.zeros_(cell.bias_hh)


class GRUPolicy(Policy):
    """Gated recurrent units (Cho et al. 2014), MotorNet's default controller."""

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec) -> None:
        super().__init__(n_inputs, n_outputs, spec)
        h = spec.hidden_size
        self.state_size = h
        cells = [nn.GRUCell(n_inputs if i == 0 else h, h) for i in range(spec.n_layers)]
        for cell in cells:
            _init_cell(cell, 3, h)
        self.cells = nn.ModuleList(cells)

    def _advance(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        return gru_cell(cast(nn.GRUCell, self.cells[layer]), x, state)

    def _advance_unfused(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        cell = cast(nn.GRUCell, self.cells[layer])
        gi = F.linear(x, cell.weight_ih, cell.bias_ih)  # (B, 3H): reset, update, new
        gh = F.linear(state, cell.weight_hh, cell.bias_hh)
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * state


class RNNPolicy(Policy):
    """Vanilla recurrent network h' = tanh(W x + U h + b)."""

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec) -> None:
        super().__init__(n_inputs, n_outputs, spec)
        h = spec.hidden_size
        self.state_size = h
        cells = [nn.RNNCell(n_inputs if i == 0 else h, h, nonlinearity="tanh") for i in range(spec.n_layers)]
        for cell in cells:
            _init_cell(cell, 1, h)
        self.cells = nn.ModuleList(cells)

    def _advance(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        return self.cells[layer](x, state)

    def _advance_unfused(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        cell = cast(nn.RNNCell, self.cells[layer])
        return torch.tanh(F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(state, cell.weight_hh, cell.bias_hh))


class LSTMPolicy(Policy):
    """Long short-term memory (Hochreiter & Schmidhuber 1997); state = [h, c] along the last axis."""

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec) -> None:
        super().__init__(n_inputs, n_outputs, spec)
        h = spec.hidden_size
        self.state_size = 2 * h
        cells = [nn.LSTMCell(n_inputs if i == 0 else h, h) for i in range(spec.n_layers)]
        for cell in cells:
            _init_cell(cell, 4, h)
            cell.bias_ih.data[h : 2 * h] = 1.0  # forget gate
        self.cells = nn.ModuleList(cells)

    def _advance(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        h = self.hidden_size
        new_h, new_c = self.cells[layer](x, (state[:, :h], state[:, h:]))
        return torch.cat([new_h, new_c], dim=-1)

    def _advance_unfused(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        cell, h = cast(nn.LSTMCell, self.cells[layer]), self.hidden_size
        gates = F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(state[:, :h], cell.weight_hh, cell.bias_hh)
        i, f, g, o = gates.chunk(4, dim=-1)  # input, forget, cell, output
        c = torch.sigmoid(f) * state[:, h:] + torch.sigmoid(i) * torch.tanh(g)
        return torch.cat([torch.sigmoid(o) * torch.tanh(c), c], dim=-1)


class MLPPolicy(Policy):
    """Feed-forward tanh network; its "state" is only the last activity (it has no memory)."""

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec) -> None:
        super().__init__(n_inputs, n_outputs, spec)
        h = spec.hidden_size
        self.state_size = h
        layers = [nn.Linear(n_inputs if i == 0 else h, h) for i in range(spec.n_layers)]
        for layer in layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.layers = nn.ModuleList(layers)

    def _advance(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        return self.layers[layer](x).tanh()


POLICIES: dict[str, type[Policy]] = {"gru": GRUPolicy, "rnn": RNNPolicy, "lstm": LSTMPolicy, "mlp": MLPPolicy}


def build_policy(
    spec: PolicySpec,
    n_inputs: int,
    n_outputs: int,
    groups: dict[str, tuple[int, int]] | None = None,
    dt: float | None = None,
) -> Policy:
    """Build the policy of ``spec.kind`` for ``n_inputs`` observations and ``n_outputs`` muscles.

    Args:
        groups: [start, stop) of each observation group (``specs.run.observation_groups``); multi_area only.
        dt: the effector's time step [s]; multi_area only.

    Raises:
        ValueError: a multi_area spec without ``groups`` or ``dt``.
    """
    if spec.kind == "multi_area":
        from motornet_core.policies.multi_area import MultiAreaPolicy

        if groups is None or dt is None:
            raise ValueError("a multi_area policy needs the observation groups and dt (see policy_for_run)")
        return MultiAreaPolicy(n_inputs, n_outputs, spec, groups, dt)
    return POLICIES[spec.kind](n_inputs, n_outputs, spec)


def policy_for_run(run: RunSpec) -> Policy:
    """A freshly initialised policy of a run spec (its observation layout and dt); the caller seeds torch."""
    return build_policy(run.policy, observation_size(run), run.effector.n_muscles, observation_groups(run), run.effector.dt)
