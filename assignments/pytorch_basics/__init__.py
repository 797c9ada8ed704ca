"""The pytorch_basics assignment: handout, checks, probes, feedback plots and bug zoo (its solution is reference/pytorch_basics.py)."""
