"""Synthetic post dumps with known ground truth, modelled on documented campaigns against
Xiaomi (the 2025 "black manuscript" smear network) and on authentic bursts around it.

Scenario facts and text pools live in ``seeds/*.toml``; see ``seeds/README.md``.
"""

from detector.synth.evasive import generate_evasion_world
from detector.synth.output import write_world
from detector.synth.scenarios import load_scenarios
from detector.synth.traces import generate_trace_world
from detector.synth.world import generate_world

__all__ = [
    "generate_evasion_world",
    "generate_trace_world",
    "generate_world",
    "load_scenarios",
    "write_world",
]
