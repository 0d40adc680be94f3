"""Policy interface: observation (B, I) and a recurrent state -> excitation (B, M) in [0, 1].

Every policy keeps its recurrent state as one tensor of shape (B, L, S) (L layers; S = H, or 2H for
the LSTM's concatenated h and c) so that rollouts, snapshots and analyses treat all kinds alike.
The read-out is linear followed by a sigmoid; its bias starts at ``readout_bias`` (-5 as in
MotorNet's tutorial) so that the initial excitation is close to 0.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from motornet_core.specs.run import PolicySpec


class Policy(nn.Module):
    """Base class; subclasses implement :meth:`_advance` and set ``state_size``."""

    state_size: int

    def __init__(self, n_inputs: int, n_outputs: int, spec: PolicySpec) -> None:
        super().__init__()
        self.spec = spec
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.hidden_size = spec.hidden_size
        self.n_layers = spec.n_layers
        self.readout = nn.Linear(spec.hidden_size, n_outputs)
        nn.init.xavier_uniform_(self.readout.weight)
        nn.init.constant_(self.readout.bias, spec.readout_bias)

    def initial_state(self, batch_size: int, like: Tensor | None = None) -> Tensor:
        """Zero recurrent state (B, L, S) on the device/dtype of ``like`` (default: the parameters)."""
        ref = like if like is not None else self.readout.weight
        return torch.zeros(batch_size, self.n_layers, self.state_size, dtype=ref.dtype, device=ref.device)

    def activity(self, state: Tensor) -> Tensor:
        """Hidden activity (B, H) of the last layer (the units the read-out sees)."""
        return state[:, -1, : self.hidden_size]

    def _advance(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        """New state (B, S) of one layer from its input (B, I_l) and previous state (B, S)."""
        raise NotImplementedError

    def _advance_unfused(self, layer: int, x: Tensor, state: Tensor) -> Tensor:
        """:meth:`_advance` in plain matrix products and pointwise functions (the same values to rounding)."""
        return self._advance(layer, x, state)

    def draw_noise(self, batch_size: int, like: Tensor, generator: torch.Generator | None = None) -> list[Tensor] | None:
        """One step's hidden noise: a (B, S) sample of N(0, 1) per layer, or None without ``hidden_noise``.

        Drawn in the order :meth:`forward` draws them, so passing the result as ``eps`` gives the
        same values (this lets a compiled step take its random numbers as inputs).
        """
        if self.spec.hidden_noise <= 0:
            return None
        device = generator.device if generator is not None else like.device
        shape = (batch_size, self.state_size)
        return [
            torch.randn(shape, generator=generator, dtype=like.dtype, device=device).to(like.device) for _ in range(self.n_layers)
        ]

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
        """One step: returns the excitation (B, M) and the new state (B, L, S).

        Args:
            obs: (B, I) observation.
            state: (B, L, S) previous recurrent state.
            generator: random source of the hidden noise.
            noise: add ``hidden_noise`` (off for deterministic evaluation).
            eps: this step's noise from :meth:`draw_noise` (then nothing is drawn here).
            fused: step the layers with torch's fused recurrent cells; False writes the same cells out
                as matrix products (:meth:`_advance_unfused`: what ``vmap`` batches over replicates).
            units: an intervention (gain (H,), offset (H,)) on the last layer's activity: h <- gain h + offset,
                after the noise and before the read-out (see ``motornet_core.training.interventions``).
        """
        if eps is None and noise:
            eps = self.draw_noise(obs.shape[0], obs, generator)
        x = obs
        layers = []
        for layer in range(self.n_layers):
            new = self._advance(layer, x, state[:, layer]) if fused else self._advance_unfused(layer, x, state[:, layer])
            if eps is not None:
                new = new + self.spec.hidden_noise * eps[layer]
            if units is not None and layer == self.n_layers - 1:
                h = self.hidden_size
                new = torch.cat([units[0] * new[:, :h] + units[1], new[:, h:]], dim=-1)
            layers.append(new)
            x = new[:, : self.hidden_size]
        action = torch.sigmoid(self.readout(x))  # (B, M)
        return action, torch.stack(layers, dim=1)
