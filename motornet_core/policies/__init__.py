"""Controller networks: observation -> muscle excitation."""

from motornet_core.policies.base import Policy
from motornet_core.policies.recurrent import POLICIES, GRUPolicy, LSTMPolicy, MLPPolicy, RNNPolicy, build_policy, policy_for_run

__all__ = ["POLICIES", "GRUPolicy", "LSTMPolicy", "MLPPolicy", "Policy", "RNNPolicy", "build_policy", "policy_for_run"]
