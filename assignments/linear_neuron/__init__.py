"""The linear_neuron assignment: handout, checks, probes, feedback plots and bug zoo (its solution is reference/linear_neuron.py)."""
