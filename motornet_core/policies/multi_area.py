"""Multi-area policies: named GRU or vanilla-RNN areas wired by masked, delayed, optionally sign-constrained projections.

Units are numbered area after area (``area_slices``). Each step, area k updates from

* the observation groups it lists (``inputs``: task, vision, proprioception, stacked actions), through
  an input matrix whose other columns are masked to exactly 0;
* its own previous activity (recurrence, density ``density``) and the delayed activity of every area
  that projects to it (``connections``: a connection with delay d reads the source's activity from
  d steps before the last one), through one masked matrix over those presynaptic units;

and then leaks with its time constant: h <- (1 - a) h + a cell(x, h), a = dt / tau. Only areas with
``to_muscles`` reach the read-out (the rest of its columns are 0). Masks are fixed buffers drawn
from the run's seed; the effective weight is ``mask * W`` (``mask * |W| * sign`` under Dale's law),
so a masked weight is exactly 0 and stays 0 whatever training does, and under Dale's law every
presynaptic unit keeps its sign (the first ``round(excitatory * size)`` units of an area excite,
the others inhibit; inhibitory units project only within their own area and not to the muscles).

State: (B, 1, N (D + 1)) with N the units and D the longest connection delay in steps: the current
activity first (what :meth:`activity` returns), then the D previous activities, newest first.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motornet_core.policies.base import Policy
from motornet_core.specs.areas import AreaSpec
from motornet_core.specs.run import PolicySpec, delay_steps

Groups = dict[str, tuple[int, int]]


class _Area(nn.Module):
    """One area's weights (raw parameters) and fixed masks/signs (buffers)."""

    in_mask: Tensor
    rec_mask: Tensor
    rec_sign: Tensor

    def __init__(self, spec: AreaSpec, n_inputs: int, n_pre: int) -> None:
        super().__init__()
        gates = 3 if spec.kind == "gru" else 1
        n = spec.size
        self.w_in = nn.Parameter(torch.empty(gates * n, n_inputs))
        self.w_rec = nn.Parameter(torch.empty(gates * n, n_pre))
        self.b_in = nn.Parameter(torch.zeros(gates * n))
        self.b_rec = nn.Parameter(torch.zeros(gates * n))
        self.register_buffer("in_mask", torch.zeros(gates * n, n_inputs))
        self.register_buffer("rec_mask", torch.zeros(gates * n, n_pre))
        self.register_buffer("rec_sign", torch.ones(n_pre))


class MultiAreaPolicy(Policy):
    """A policy of named areas (see the module).

    Args:
        n_inputs: observation entries I.
        n_outputs: muscles M.
        spec: a ``multi_area`` :class:`PolicySpec`.
        groups: [start, stop) of each observation group (``motornet_core.specs.run.observation_groups``).
        dt: the effector's time step [s] (time constants and delays are in seconds).
    """

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec, groups: Groups, dt: float) -> None:
        nn.Module.__init__(self)
        if spec.kind != "multi_area":
            raise ValueError(f"MultiAreaPolicy needs kind 'multi_area', got {spec.kind!r}")
        self.spec, self.n_inputs, self.n_outputs, self.dt = spec, n_inputs, n_outputs, dt
        self.area_specs = list(spec.areas)
        sizes = [a.size for a in self.area_specs]
        self.hidden_size = sum(sizes)  # N
        self.n_layers = 1
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self.area_slices: dict[str, slice] = {a.name: slice(s, s + a.size) for a, s in zip(self.area_specs, starts, strict=True)}
        self.alphas = [1.0 if a.tau is None else min(dt / a.tau, 1.0) for a in self.area_specs]
        # presynaptic sources of each area: (source name, delay steps), its own recurrence first
        self.sources: list[list[tuple[str, int]]] = []
        for a in self.area_specs:
            incoming = [(c.source, delay_steps(c.delay, dt)) for c in spec.connections if c.target == a.name]
            self.sources.append([(a.name, 0), *incoming])
        self.max_delay = max((d for src in self.sources for _, d in src), default=0)
        self.state_size = self.hidden_size * (self.max_delay + 1)
        n_exc = {a.name: min(max(round(a.excitatory * a.size), 1), a.size) for a in self.area_specs}
        self.excitatory = {
            name: n_exc[name] if spec.dale else self.area_slices[name].stop - self.area_slices[name].start for name in n_exc
        }
        self.areas = nn.ModuleDict()
        for a, src in zip(self.area_specs, self.sources, strict=True):
            n_pre = sum(self.area_specs[self._index(name)].size for name, _ in src)
            area = _Area(a, n_inputs, n_pre)
            self._init_area(a, area, src, groups)
            self.areas[a.name] = area
        self.readout = nn.Linear(self.hidden_size, n_outputs)
        self.out_mask: Tensor
        self.register_buffer("out_mask", torch.zeros(n_outputs, self.hidden_size))
        for a in self.area_specs:
            if a.to_muscles:
                sl = self.area_slices[a.name]
                self.out_mask[:, sl.start : sl.start + self.excitatory[a.name]] = 1.0
        nn.init.xavier_uniform_(self.readout.weight)
        if spec.dale:
            self.readout.weight.data.abs_()
        nn.init.constant_(self.readout.bias, spec.readout_bias)

    def _area(self, name: str) -> _Area:
        return cast(_Area, self.areas[name])

    def _index(self, name: str) -> int:
        return next(i for i, a in enumerate(self.area_specs) if a.name == name)

    def _init_area(self, spec: AreaSpec, area: _Area, sources: list[tuple[str, int]], groups: Groups) -> None:
        gates, n = (3 if spec.kind == "gru" else 1), spec.size
        for group in spec.inputs:
            lo, hi = groups[group]
            area.in_mask[:, lo:hi] = 1.0
        nn.init.xavier_uniform_(area.w_in)
        col = 0
        for name, _ in sources:
            src = self.area_specs[self._index(name)]
            own = name == spec.name
            density = (
                spec.density
                if own
                else next(c.density for c in self.spec.connections if c.source == name and c.target == spec.name)
            )
            present = (torch.rand(n, src.size) < density).float()  # the same units connect in every gate
            if self.spec.dale:
                sign = torch.ones(src.size)
                sign[self.excitatory[name] :] = -1.0
                area.rec_sign[col : col + src.size] = sign
                if not own:  # long-range projections leave excitatory units only
                    present[:, self.excitatory[name] :] = 0.0
            area.rec_mask[:, col : col + src.size] = present.repeat(gates, 1)
            block = area.w_rec.data[:, col : col + src.size]
            if own and not self.spec.dale:
                for g in range(gates):
                    nn.init.orthogonal_(block[g * n : (g + 1) * n])
            elif self.spec.dale:
                n_e = self.excitatory[name]
                n_i = src.size - n_e
                block.normal_(0.0, 1.0 / math.sqrt(src.size)).abs_()
                if n_i:
                    block[:, n_e:] *= n_e / n_i  # E/I balance of the expected input
            else:
                nn.init.xavier_uniform_(block)
            col += src.size

    # -- the effective weights ------------------------------------------------------------------------------
    def effective(self, name: str) -> tuple[Tensor, Tensor]:
        """Area ``name``'s input (G n, I) and presynaptic (G n, P) weights as used: masked (and signed under Dale)."""
        area = self._area(name)
        w_rec = area.w_rec.abs() * area.rec_sign if self.spec.dale else area.w_rec
        return area.w_in * area.in_mask, w_rec * area.rec_mask

    def effective_readout(self) -> Tensor:
        """The read-out weights (M, N) as used."""
        w = self.readout.weight.abs() if self.spec.dale else self.readout.weight
        return w * self.out_mask

    def presynaptic(self, name: str) -> list[tuple[str, int, slice]]:
        """Area ``name``'s presynaptic blocks: (source area, delay steps, columns in its presynaptic matrix)."""
        out, col = [], 0
        for src, d in self.sources[self._index(name)]:
            size = self.area_specs[self._index(src)].size
            out.append((src, d, slice(col, col + size)))
            col += size
        return out

    # -- stepping ----------------------------------------------------------------------------------------------
    def draw_noise(self, batch_size: int, like: Tensor, generator: torch.Generator | None = None) -> list[Tensor] | None:
        """One step's hidden noise: [(B, N) sample of N(0, 1)], or None without ``hidden_noise``."""
        if self.spec.hidden_noise <= 0:
            return None
        device = generator.device if generator is not None else like.device
        return [torch.randn((batch_size, self.hidden_size), generator=generator, dtype=like.dtype, device=device).to(like.device)]

    def forward(
        self,
        obs: Tensor,
        state: Tensor,
        generator: torch.Generator | None = None,
        noise: bool = True,
        eps: list[Tensor] | None = None,
        fused: bool = True,
        units: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """One step: excitation (B, M) and new state (B, 1, S) (see :meth:`Policy.forward`; ``fused`` changes nothing)."""
        if eps is None and noise:
            eps = self.draw_noise(obs.shape[0], obs, generator)
        n = self.hidden_size
        buf = state[:, 0]  # (B, N (D + 1)): the last activity, then older ones
        new_parts = []
        for a, alpha in zip(self.area_specs, self.alphas, strict=True):
            w_in, w_rec = self.effective(a.name)
            area = self._area(a.name)
            pre = torch.cat(
                [buf[:, d * n : (d + 1) * n][:, self.area_slices[src]] for src, d in self.sources[self._index(a.name)]], -1
            )
            own = buf[:, self.area_slices[a.name]]
            gi = F.linear(obs, w_in, area.b_in)
            gh = F.linear(pre, w_rec, area.b_rec)
            if a.kind == "gru":
                i_r, i_z, i_n = gi.chunk(3, dim=-1)
                h_r, h_z, h_n = gh.chunk(3, dim=-1)
                r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                cell = (1 - z) * torch.tanh(i_n + r * h_n) + z * own
            else:
                cell = torch.tanh(gi + gh) if a.activation == "tanh" else torch.relu(gi + gh)
            new_parts.append(cell if alpha == 1.0 else own + alpha * (cell - own))
        act = torch.cat(new_parts, -1)  # (B, N)
        if eps is not None:
            act = act + self.spec.hidden_noise * eps[0]
        if units is not None:
            act = units[0] * act + units[1]
        action = torch.sigmoid(F.linear(act, self.effective_readout(), self.readout.bias))
        new_state = torch.cat([act, buf[:, : n * self.max_delay]], -1) if self.max_delay else act
        return action, new_state[:, None]
