"""Probes for pytorch_basics.py: they run in the worker, next to the student's module, where torch lives.

Torch objects cannot cross the process boundary, so each probe builds the torch inputs from NumPy arrays the
check sent (layers with given weights, float32 tensors of the arrays as they come, a DataLoader handing out the
check's minibatches), calls the student's function, and sends back plain data: arrays, numbers, type names. Probes
never judge and implement no exercise; the checks judge, in the trusted process. Torch is imported once per worker
(the student's module imports it too).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset


# --- building torch inputs from the check's arrays -----------------------------------------------------------

def _tensor(a: np.ndarray) -> torch.Tensor:
    """A float32 tensor of the array, in the shape the check sent (targets arrive as an (n, 1) column)."""
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    """An nn.Linear with the given weight (out, in) and bias (out,)."""
    weight = np.atleast_2d(weight)
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        layer.bias.copy_(torch.tensor(np.reshape(bias, -1), dtype=torch.float32))
    return layer


# --- describing what the student returned, as plain data ------------------------------------------------------

def _value(v: Any) -> dict:
    """Type, dtype, shape and values of one returned item (tensors and arrays alike)."""
    facts = {"type": type(v).__name__, "is_tensor": isinstance(v, torch.Tensor)}
    if isinstance(v, (torch.Tensor, np.ndarray)):
        facts["dtype"] = str(v.dtype).replace("torch.", "")
        facts["shape"] = list(v.shape)
        facts["values"] = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v
    return facts


def _layer(layer: Any) -> dict:
    """What a layer is: a kind name (Linear, ReLU or its class name), sizes and parameters of a Linear."""
    if isinstance(layer, nn.Linear):
        return {"kind": "Linear", "type": type(layer).__name__, "in_features": layer.in_features,
                "out_features": layer.out_features, "weight": layer.weight.detach().double().numpy(),
                "bias": None if layer.bias is None else layer.bias.detach().double().numpy()}
    if isinstance(layer, nn.ReLU):
        return {"kind": "ReLU", "type": type(layer).__name__}
    return {"kind": type(layer).__name__, "type": type(layer).__name__}


def _losses(losses: Any) -> Any:
    """The loss list as returned: floats stay floats, tensors travel as arrays (the check tells them apart)."""
    return list(losses) if isinstance(losses, (list, tuple)) else losses


# --- ex1 -----------------------------------------------------------------------------------------------------

def tensor_facts(module, X: np.ndarray, y: np.ndarray) -> dict:
    """``to_tensors(X, y)`` described: the container, then each item's type, dtype, shape and values."""
    out = module.to_tensors(X, y)
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    return {"returned": type(out).__name__, "items": [_value(v) for v in items]}


# --- ex2 -----------------------------------------------------------------------------------------------------

def train_linear_from(module, X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: float, lr: float,
                      epochs: int) -> dict:
    """``train_linear_model`` on a given nn.Linear with injected initial weights: what it returned."""
    X_t, y_t = _tensor(X), _tensor(y)
    model = _linear(np.reshape(weight, (1, -1)), np.array([bias]))
    out = module.train_linear_model(X_t, y_t, lr=lr, epochs=epochs, model=model)
    return _training_result(out, given=model)


def train_linear_default(module, X: np.ndarray, y: np.ndarray) -> dict:
    """``train_linear_model(X_t, y_t)`` with every default (a new nn.Linear(m, 1), lr 0.1, 100 epochs)."""
    X_t, y_t = _tensor(X), _tensor(y)
    return _training_result(module.train_linear_model(X_t, y_t), given=None)


def _training_result(out: Any, given: nn.Module | None) -> dict:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"pair": False, "returned": type(out).__name__}
    model, losses = out
    return {"pair": True, "model": _layer(model), "same_model": model is given, "losses": _losses(losses)}


# --- ex3 -----------------------------------------------------------------------------------------------------

def loader_epochs(module, X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, epochs: int) -> dict:
    """Iterate the student's ``make_loader(...)`` for ``epochs`` epochs; every batch comes back as arrays."""
    X_t, y_t = _tensor(X), _tensor(y)
    loader = module.make_loader(X_t, y_t, batch_size=batch_size, shuffle=shuffle)
    passes = []
    for _ in range(epochs):
        batches = []
        for batch in loader:
            batches.append([_value(v) for v in batch] if isinstance(batch, (tuple, list)) else [_value(batch)])
        passes.append(batches)
    return {"type": type(loader).__name__, "epochs": passes}


class _GivenBatches(Sampler):
    """Hands out the check's minibatches of row indices, one pass of ``passes`` per iteration (after the last
    given pass, the rows in order), and records every pass it hands out. Its length is the number of minibatches
    of the pass under way (the first one before any)."""

    def __init__(self, passes: list[list[list[int]]], n: int) -> None:
        self.given, self.n = passes, n
        self.current = passes[0] if passes else [list(range(n))]
        self.passes: list[list[list[int]]] = []

    def __iter__(self):
        k = len(self.passes)
        self.current = self.given[k] if k < len(self.given) else [list(range(self.n))]
        record: list[list[int]] = []
        self.passes.append(record)
        for batch in self.current:
            record.append(list(batch))
            yield list(batch)

    def __len__(self) -> int:
        return len(self.current)


def train_with_given_batches(module, X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: float,
                             passes: list[list[list[int]]], lr: float, epochs: int) -> dict:
    """``train_with_loader`` on a real DataLoader that hands out the check's minibatches, from injected weights.

    The loader is the grader's own (not the student's make_loader), so this exercise is judged on its own.
    """
    X_t, y_t = _tensor(X), _tensor(y)
    sampler = _GivenBatches(passes, len(X))
    loader = DataLoader(TensorDataset(X_t, y_t), batch_sampler=sampler)
    model = _linear(np.reshape(weight, (1, -1)), np.array([bias]))
    losses = module.train_with_loader(model, loader, lr=lr, epochs=epochs)
    return {"losses": _losses(losses), "passes": sampler.passes, "model": _layer(model)}


# --- ex4 -----------------------------------------------------------------------------------------------------

def collapse_facts(module, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray) -> dict:
    """``collapse_linear_stack`` on two layers with given weights: what it returned, its output on X, and the
    two layers afterwards (they must be left as they were)."""
    layer1, layer2 = _linear(W1, b1), _linear(W2, b2)
    merged = module.collapse_linear_stack(layer1, layer2)
    facts = {"merged": _layer(merged), "layer1": _layer(layer1), "layer2": _layer(layer2), "out": None}
    if isinstance(merged, nn.Module):
        with torch.no_grad():
            facts["out"] = _value(merged(torch.tensor(X, dtype=torch.float32)))
    return facts


# --- ex5 -----------------------------------------------------------------------------------------------------

def mlp_facts(module, args: list, kwargs: dict, X: np.ndarray | None = None) -> dict:
    """``make_mlp(*args, **kwargs)`` as plain data: its type, its layers in order, and its output on X."""
    model = module.make_mlp(*args, **kwargs)
    facts = {"type": type(model).__name__, "is_sequential": isinstance(model, nn.Sequential), "layers": None,
             "out": None}
    if isinstance(model, nn.Sequential):
        facts["layers"] = [_layer(layer) for layer in model]
    if X is not None and isinstance(model, nn.Module):
        with torch.no_grad():
            facts["out"] = _value(model(torch.tensor(X, dtype=torch.float32)))
    return facts


def _leaf(layer: nn.Module) -> dict:
    """One leaf module as plain data: its class (name and defining module), its plain-valued settings, and its own
    parameters and buffers. Nothing here says whether it is a layer the grader knows: the check decides."""
    settings = {k: v for k, v in vars(layer).items()
                if not k.startswith("_") and k != "training" and type(v) in (int, float, bool, str)}
    return {"type": type(layer).__name__, "module": type(layer).__module__, "qualname": type(layer).__qualname__,
            "settings": settings,
            "parameters": {name: p.detach().double().cpu().numpy() for name, p in layer.named_parameters(recurse=False)},
            "buffers": {name: b.detach().cpu().numpy() for name, b in layer.named_buffers(recurse=False)
                        if b is not None and b.is_floating_point()}}


def _contents(model: nn.Module) -> dict:
    """A module's leaf modules in registration order (``named_modules`` with repeats kept: containers such as
    nn.Sequential or the student's own module are flattened), as :func:`_leaf` describes them, and the parameters no
    leaf holds (their names and their total size)."""
    leaves = [m for _, m in model.named_modules(remove_duplicate=False) if not any(True for _ in m.children())]
    held = {id(p) for m in leaves for p in m.parameters(recurse=False)}
    stray = [(name, p) for name, p in model.named_parameters() if id(p) not in held]
    return {"layers": [_leaf(m) for m in leaves], "stray": [name for name, _ in stray],
            "stray_size": int(sum(p.numel() for _, p in stray))}


def cubic_model_facts(module, model: Any, x: np.ndarray, seed: int | None = None) -> dict:
    """What ``fit_cubic`` returned (kept in the worker by the check), as plain data: its leaf modules in registration
    order (``named_modules`` with repeats kept: a container such as nn.Sequential or the student's own module is
    flattened), any parameter that no leaf holds, and the model's own predictions on x (n, 1), in eval mode and in
    the model's own precision. The check rebuilds the network from the leaves and judges; ``seed`` is not used
    here, it only labels the recorded facts for the feedback plot."""
    facts = {"type": type(model).__name__, "callable": callable(model), "is_module": isinstance(model, nn.Module),
             "layers": None, "stray": [], "stray_size": 0, "pred": None}
    if isinstance(model, nn.Module):
        facts.update(_contents(model))
        model.eval()
    if callable(model):
        params = list(model.parameters()) if isinstance(model, nn.Module) else []
        dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
        with torch.no_grad():
            facts["pred"] = _value(model(torch.tensor(x, dtype=dtype)))
    return facts


# --- ex6 -----------------------------------------------------------------------------------------------------

def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def cubic_net_facts(module, hidden: int | None = None, x: np.ndarray | None = None) -> dict:
    """``CubicNet()`` (or ``CubicNet(hidden=hidden)``) as plain data: what the name CubicNet is and where it was
    defined, the class of the object it built and that class's bases (its MRO), the object's leaf modules and stray
    parameters (:func:`_contents`), and, given x, its output on a float32 tensor of x, in eval mode."""
    cls = getattr(module, "CubicNet", None)
    facts = {"found": cls is not None, "is_class": isinstance(cls, type), "what": type(cls).__name__,
             "module": module.__name__, "defined_in": getattr(cls, "__module__", None), "type": None,
             "same_class": False, "mro": [], "is_module": False, "layers": None, "stray": [], "stray_size": 0,
             "out": None}
    if cls is None:
        return facts
    model = cls() if hidden is None else cls(hidden=hidden)
    facts.update(type=type(model).__name__, same_class=type(model) is cls,
                 mro=[_class_path(c) for c in type(model).__mro__], is_module=isinstance(model, nn.Module))
    if isinstance(model, nn.Module):
        facts.update(_contents(model))
        if x is not None:
            model.eval()
            with torch.no_grad():
                facts["out"] = _value(model(torch.tensor(np.asarray(x), dtype=torch.float32)))
    return facts
