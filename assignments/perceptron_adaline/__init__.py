"""The perceptron_adaline assignment: checks, oracle, mistakes, probes and bug zoo (its solution is reference/perceptron_adaline.py)."""
