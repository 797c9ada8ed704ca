"""The known mistakes of pytorch_basics, as data: each one's name, what to tell the student in the chapter's words,
the handout section to reread, and the handout convention it breaks (a failure shows it as its rule).

A hint teaches: it says what the code did and why that is wrong, and points to the handout; it never prints the
line of code that fixes it. Every check diagnoses the same way (:mod:`autograder.mistakes`): when what it saw
differs from what was expected, it asks which known mistake reproduces what it saw, the mistakes' replays being
the values the oracle gives for each of them (:func:`candidates`; computed by the oracle, or recorded for a visible
check's fixed inputs), or it recognises the mistake from what the student's object is (a float64 tensor, two Linear
layers with nothing between them); and it fails with that mistake's words, else with the check's own general hint.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from autograder.mistakes import Convention, Mistake, catalogue

# --- the handout's conventions the checks enforce (shown as "Rule:") ---------------------------------------------

FLOAT32 = Convention("float32", "data become float32 tensors, the dtype of nn.Linear's weights", "dtype",
                     stated="convert your data with torch.tensor(X, dtype=torch.float32)")
COLUMN_TARGETS = Convention("column_targets", "X_t keeps the shape (n, m) of X and y_t is a column (n, 1), the "
                            "shape of nn.Linear(m, 1)'s output", "Shapes",
                            stated="Your targets must have that shape too")
FOUR_STEPS = Convention("four_steps", "every epoch, in this order: zero the gradients, forward pass and loss, "
                        "backward, step; SGD with the lr argument and nn.MSELoss, mean((u - y)^2) with no 1/2",
                        "The four steps", stated="Every training iteration, in this order")
LOSS_HISTORY = Convention("loss_history", "one Python float per epoch, the loss before that epoch's step",
                          "Exercise 2", stated="with one float per epoch, each the loss before that epoch's step")
MINIBATCHES = Convention("minibatches", "consecutive minibatches of batch_size examples, the last one smaller, every "
                         "example once per epoch, in a new random order at every epoch when shuffle is on",
                         "Exercise 3", stated="Every example must appear exactly once per epoch")
MINIBATCH_UPDATES = Convention("minibatch_updates", "one update per minibatch, the four steps inside the minibatch "
                               "loop, and exactly one pass over the loader per epoch", "Exercise 3",
                               stated="each epoch is exactly one pass over the loader")
EPOCH_LOSS = Convention("epoch_loss", "an epoch's loss is the plain mean of its minibatch losses, as a Python float",
                        "Exercise 3", stated="each reported loss must be the plain mean of that epoch's minibatch losses")
PYTORCH_LAYOUT = Convention("pytorch_layout", "layer.weight has shape (out_features, in_features) and a layer "
                            "computes x @ weight.T + bias; the merged layer computes layer2(layer1(x))", "Exercise 4",
                            stated="PyTorch stores layer.weight as (out_features, in_features)")
LAYERS_UNCHANGED = Convention("layers_unchanged", "collapse_linear_stack builds a new nn.Linear and leaves layer1 and "
                              "layer2 as they were", "Exercise 4", stated="leave layer1 and layer2 unchanged")
MLP = Convention("mlp", "make_mlp is an nn.Sequential of Linear, ReLU, Linear", "Exercise 5",
                 stated="returns nn.Sequential(Linear, ReLU, Linear)")
TRAINED_NETWORK = Convention("trained_network", "fit_cubic returns the network it trained, made of standard "
                             "torch.nn layers applied in the order they are registered", "Exercise 5",
                             stated="What fit_cubic must return: the network you trained")
CUBIC_FIT = Convention("cubic_fit", "R^2 of at least the bar on points drawn uniformly from [-2, 2], within the "
                       "time limit", "Exercise 5",
                       stated="It must reach at least 0.98, and training must finish within 30 s")
CUBIC_NET = Convention("cubic_net", "CubicNet is your own subclass of nn.Module: __init__ registers Linear(1, hidden), "
                       "a torch.nn non-linearity and Linear(hidden, 1), forward applies them to an (n, 1) float32 "
                       "input and returns (n, 1), and it has 3 * hidden + 1 parameters", "Exercise 6",
                       stated="all three registered in __init__")
CONVENTIONS = {c.name: c for c in (FLOAT32, COLUMN_TARGETS, FOUR_STEPS, LOSS_HISTORY, MINIBATCHES, MINIBATCH_UPDATES,
                                   EPOCH_LOSS, PYTORCH_LAYOUT, LAYERS_UNCHANGED, MLP, TRAINED_NETWORK, CUBIC_FIT, CUBIC_NET)}


# --- the catalogue -------------------------------------------------------------------------------------------------

#: The catalogue, by the convention each mistake breaks (a failure shows it as its rule).
_BREAKING = {
    # ex1
    FLOAT32: [
        Mistake("float64_tensors",
                "{name} is float64: NumPy arrays are float64, torch.from_numpy keeps that dtype, and nn.Linear's "
                "weights are float32, so PyTorch refuses to multiply them; convert to float32", "dtype"),
    ],
    COLUMN_TARGETS: [
        Mistake("targets_not_a_column",
                "y_t has shape (n,): against the (n, 1) predictions of nn.Linear(m, 1) it broadcasts to an (n, n) "
                "difference inside nn.MSELoss, a wrong loss with only a warning. Make it a column, as the handout "
                "does with view(-1, 1)", "Shapes"),
        Mistake("targets_as_a_row",
                "y_t is a row (1, n), and nn.Linear(m, 1) predicts a column (n, 1): y_t must have that shape. In "
                "view(-1, 1) the -1 is the number of rows, worked out for you", "Shapes"),
    ],
    # ex2
    FOUR_STEPS: [
        Mistake("ignores_given_model",
                "train the model you were given (the model argument) and return it; make a new nn.Linear(m, 1) only "
                "when model is None", "Exercise 2"),
        Mistake("parameters_never_change",
                "the parameters never changed: the step used gradients that were zero. backward must come before "
                "optimizer.step(), and both must run every epoch", "The four steps"),
        Mistake("missing_zero_grad",
                "your gradients add up over the epochs: loss.backward() adds to each parameter's .grad, so every "
                "epoch must begin by clearing the old gradients (zero_grad, step 1)", "The four steps"),
        Mistake("ignores_lr",
                "your model trained with lr={used:g}, not with the lr argument ({given:g}): the optimiser must use "
                "the learning rate train_linear_model is given", "Exercise 2"),
    ],
    LOSS_HISTORY: [
        Mistake("loss_after_step",
                "your losses are one epoch late: record the loss computed before optimizer.step(), not a loss of the "
                "updated model", "Exercise 2"),
        Mistake("half_mse",
                "your losses are half the MSE: nn.MSELoss() is mean((u - y)^2), without the chapter's 1/2 (a 1/2 "
                "in the loss also halves every gradient)",
                "The four steps"),
        Mistake("losses_not_floats",
                "the losses must be Python floats: take the number out of the loss tensor with .item(); the tensor "
                "itself keeps its whole computation graph alive", "The four steps"),
    ],
    # ex3
    MINIBATCHES: [
        Mistake("drops_last_batch",
                "the last, smaller minibatch is missing: DataLoader keeps it unless it is told to drop it (drop_last)",
                "Exercise 3"),
        Mistake("not_shuffled",
                "the examples came in their original order: DataLoader shuffles only when asked to (its default is "
                "shuffle=False), and make_loader's shuffle argument decides", "Exercise 3"),
        Mistake("shuffled_once",
                "the same order at every epoch: shuffling the data once before building the loader is not enough; "
                "DataLoader draws a new order at each epoch when it shuffles", "Exercise 3"),
        Mistake("ignores_shuffle_argument",
                "with shuffle=False the examples must keep their original order: make_loader passes its shuffle "
                "argument on to the DataLoader", "Exercise 3"),
        Mistake("pairs_split",
                "some xb rows came with another example's yb: one TensorDataset of both tensors keeps every x with "
                "its y; do not shuffle X_t and y_t separately", "Exercise 3"),
    ],
    MINIBATCH_UPDATES: [
        Mistake("loader_never_steps",
                "the parameters never changed: every minibatch needs its backward and then its step", "Exercise 3"),
        Mistake("loader_missing_zero_grad",
                "gradients add up across minibatches: clear them (zero_grad) before each minibatch's backward",
                "The four steps"),
        Mistake("one_update_per_epoch",
                "your model made one update per epoch, with the last minibatch's gradient: the step belongs inside "
                "the minibatch loop, one update per minibatch", "Exercise 3"),
    ],
    EPOCH_LOSS: [
        Mistake("epoch_loss_is_a_sum",
                "you reported the sum of the minibatch losses; an epoch's loss is their mean", "Exercise 3"),
        Mistake("epoch_loss_weighted_by_size",
                "report the plain mean of the minibatch losses, each minibatch counting once (the last, smaller one "
                "too), not a mean weighted by their sizes", "Exercise 3"),
        Mistake("epoch_loss_is_the_last_batch",
                "average the losses of all the epoch's minibatches, not only the last one", "Exercise 3"),
    ],
    # ex4
    PYTORCH_LAYOUT: [
        Mistake("product_wrong_order",
                "the weights are multiplied in the wrong order: PyTorch stores layer.weight as (out_features, "
                "in_features), the transpose of the chapter's W, so the chapter's product W1 W2 must be transposed too",
                "Exercise 4"),
        Mistake("bias_without_b1_w2",
                "the bias is missing the b1 W2 term: expand (X W1 + b1) W2 + b2 and collect every term without X",
                "Exercise 4"),
        Mistake("two_layers_returned",
                "an nn.Sequential of the two layers computes the same thing but is still two layers: the answer is "
                "one nn.Linear, a new one", "Exercise 4"),
        Mistake("layers_modified",
                "{name} was changed: build a new nn.Linear for the merged values and leave both layers as they were",
                "Exercise 4"),
    ],
    # ex5
    MLP: [
        Mistake("no_nonlinearity",
                "without a non-linearity between them two Linear layers collapse to one linear map (exercise 4): a "
                "ReLU goes between them", "Exercise 5"),
        Mistake("other_activation",
                "the non-linearity asked for is ReLU (the usual default), not {found}", "Exercise 5"),
    ],
    TRAINED_NETWORK: [
        Mistake("untrained_network",
                "the network fit_cubic returned has its initial parameters: it must train it, the four steps (zero "
                "the gradients, loss, backward, step) for a few hundred epochs", "Exercise 5"),
        Mistake("fit_cubic_activation_not_registered",
                "your network's forward applies {found} as a function, so it is not one of the network's registered "
                "layers and the network cannot be rebuilt from them: create the non-linearity in __init__ as a "
                "torch.nn module and call that module in forward, as in exercise 6", "Exercise 5"),
    ],
    CUBIC_FIT: [
        Mistake("linear_model_for_cubic",
                "your model is (nearly) a straight line, and y = x^3 bends: a linear model cannot fit it however long "
                "it trains. Use a network with a non-linearity between its layers, such as make_mlp's", "Exercise 5"),
        Mistake("cubic_underfit",
                "the curve is not fitted well enough on [-2, 2], where training data are sparse near the ends: more "
                "hidden units, more epochs or torch.optim.Adam; plot your model against x^3", "Exercise 5"),
    ],
    # ex6
    CUBIC_NET: [
        Mistake("cubic_net_not_own_subclass",
                "CubicNet must be a class you write, a subclass of nn.Module with its own __init__ and forward: an "
                "nn.Sequential (a subclass of it, or a function returning one) writes forward for you, and writing "
                "forward is what this exercise practises", "Exercise 6"),
        Mistake("cubic_net_without_nonlinearity",
                "CubicNet's two Linear layers have no non-linearity between them, and two linear layers collapse to "
                "one linear map (exercise 4): register a torch.nn activation in __init__ and apply it between them "
                "in forward", "Exercise 6"),
        Mistake("activation_not_registered",
                "your forward applies {found} as a function, so the non-linearity is not a registered submodule: "
                "the model's printout, its list of modules and the grader do not see it. Create it in __init__ as "
                "a torch.nn module assigned to an attribute, and call that module in forward", "Exercise 6"),
        Mistake("cubic_net_ignores_hidden",
                "your CubicNet has {found} hidden units where hidden={hidden} asks for {hidden}: both Linear "
                "layers take their size from the hidden argument, whose default is 64", "Exercise 6"),
        Mistake("cubic_net_output_not_a_column",
                "forward returned shape (n,): predictions are a column (n, 1), the shape of the targets y_t; "
                "flattening them makes nn.MSELoss broadcast (n,) against (n, 1) to an (n, n) difference", "Shapes"),
        Mistake("cubic_net_forward_not_its_layers",
                "forward does not compute what its registered layers compute: it must apply the first Linear, "
                "then the non-linearity, then the second Linear, each once, and nothing else (no x ** 3 or other "
                "formula of your own)", "Exercise 6"),
    ],
}
CATALOGUE = catalogue(*(replace(mistake, convention=convention) for convention, group in _BREAKING.items()
                        for mistake in group))


def candidates(outcome: Mapping[str, Any], key: str, *more: str) -> list[Mistake]:
    """The known mistakes the oracle replayed for a check (``outcome["mistakes"]``, most likely first, each
    ``{"name": ..., "details": {...}, <what it changes>: value}``) that change ``key``: the catalogue's mistakes,
    their words filled in with the candidate's details, each with the value it gives for ``key`` as its replay.
    With ``more`` keys: the candidates that give all of them, each replaying the tuple of their values."""
    keys = (key, *more)
    return [replace(CATALOGUE[c["name"]].filled(**(c.get("details") or {})),
                    replay=c[key] if not more else tuple(c[k] for k in keys))
            for c in outcome["mistakes"] if all(k in c for k in keys)]
