"""neurograde: an auto-graded exercise kit for the linear neuron, backpropagation and PyTorch basics.

Kept free of imports: the sandboxed worker imports this package next to untrusted code.
"""
__version__ = "0.1.0"
