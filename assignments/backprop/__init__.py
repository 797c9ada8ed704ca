"""The backprop assignment: handout, checks, probes, feedback plots and bug zoo (its solution is reference/backprop.py)."""
