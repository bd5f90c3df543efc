"""University-scale benchmarks (P1: intent from NetBox, P2: rendering). Run ``python -m benchmarks``."""
