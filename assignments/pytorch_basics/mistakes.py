"""The known mistakes of pytorch_basics, as data: each one's name, what to tell the student in the chapter's words,
and the handout section to reread; and the one way the checks name them.

A hint teaches: it says what the code did and why that is wrong, and points to the handout; it never prints the
line of code that fixes it. Every check diagnoses the same way: when what it saw differs from what was expected,
it asks which known mistake reproduces what it saw (:func:`diagnose`, over candidates that the oracle computes, or
that were recorded for a visible check's fixed inputs), or it recognises the mistake from what the student's object
is (a float64 tensor, two Linear layers with nothing between them), and fails with that mistake's words
(:func:`fail_as`), else with the check's own general hint (:func:`fail_with`). A failure names the handout
convention the check enforces as its rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NoReturn

from autograder.checking import fail, fmt


@dataclass(frozen=True)
class Convention:
    """A rule of the handout that a check enforces."""

    name: str
    text: str
    section: str

    def __str__(self) -> str:
        return f"{self.text} (handout: {self.section})"


@dataclass(frozen=True)
class Mistake:
    """A known mistake: ``say`` may hold ``{fields}`` that the diagnosis fills in (the learning rate used, ...)."""

    name: str
    exercise: str
    say: str
    section: str
    convention: str = ""

    def hint(self, **details: Any) -> str:
        return f"{self.say.format(**details)} (handout: {self.section})"


CONVENTIONS = {c.name: c for c in [
    Convention("float32", "data become float32 tensors, the dtype of nn.Linear's weights", "dtype"),
    Convention("column_targets", "X_t keeps the shape (n, m) of X and y_t is a column (n, 1), the shape of "
               "nn.Linear(m, 1)'s output", "Shapes"),
    Convention("four_steps", "every epoch, in this order: zero the gradients, forward pass and loss, backward, step; "
               "SGD with the lr argument and nn.MSELoss, mean((u - y)^2) with no 1/2", "The four steps"),
    Convention("loss_history", "one Python float per epoch, the loss before that epoch's step", "Exercise 2"),
    Convention("minibatches", "consecutive minibatches of batch_size examples, the last one smaller, every example "
               "once per epoch, in a new random order at every epoch when shuffle is on", "Exercise 3"),
    Convention("minibatch_updates", "one update per minibatch, the four steps inside the minibatch loop",
               "Exercise 3"),
    Convention("epoch_loss", "an epoch's loss is the plain mean of its minibatch losses, as a Python float",
               "Exercise 3"),
    Convention("pytorch_layout", "layer.weight has shape (out_features, in_features) and a layer computes "
               "x @ weight.T + bias; the merged layer computes layer2(layer1(x))", "Exercise 4"),
    Convention("mlp", "make_mlp is an nn.Sequential of Linear, ReLU, Linear", "Exercise 5"),
    Convention("trained_network", "fit_cubic returns the network it trained, made of standard torch.nn layers "
               "applied in the order they are registered", "Exercise 5"),
    Convention("cubic_fit", "R^2 of at least the bar on points drawn uniformly from [-2, 2], within the time "
               "limit", "Exercise 5"),
]}


CATALOGUE = {m.name: m for m in [
    # ex1
    Mistake("float64_tensors", "ex1",
            "{name} is float64: NumPy arrays are float64, torch.from_numpy keeps that dtype, and nn.Linear's weights "
            "are float32, so PyTorch refuses to multiply them; convert to float32", "dtype", "float32"),
    Mistake("targets_not_a_column", "ex1",
            "y_t has shape (n,): against the (n, 1) predictions of nn.Linear(m, 1) it broadcasts to an (n, n) "
            "difference inside nn.MSELoss, a wrong loss with only a warning. Make it a column, as the handout does "
            "with view(-1, 1)", "Shapes", "column_targets"),
    Mistake("targets_as_a_row", "ex1",
            "y_t is a row (1, n), and nn.Linear(m, 1) predicts a column (n, 1): y_t must have that shape. In "
            "view(-1, 1) the -1 is the number of rows, worked out for you", "Shapes", "column_targets"),
    # ex2
    Mistake("ignores_given_model", "ex2",
            "train the model you were given (the model argument) and return it; make a new nn.Linear(m, 1) only "
            "when model is None", "Exercise 2", "four_steps"),
    Mistake("parameters_never_change", "ex2",
            "the parameters never changed: the step used gradients that were zero. backward must come before "
            "optimizer.step(), and both must run every epoch", "The four steps", "four_steps"),
    Mistake("missing_zero_grad", "ex2",
            "your gradients add up over the epochs: loss.backward() adds to each parameter's .grad, so every epoch "
            "must begin by clearing the old gradients (zero_grad, step 1)", "The four steps", "four_steps"),
    Mistake("ignores_lr", "ex2",
            "your model trained with lr={used:g}, not with the lr argument ({given:g}): the optimiser must use the "
            "learning rate train_linear_model is given", "Exercise 2", "four_steps"),
    Mistake("loss_after_step", "ex2",
            "your losses are one epoch late: record the loss computed before optimizer.step(), not a loss of the "
            "updated model", "Exercise 2", "loss_history"),
    Mistake("half_mse", "ex2",
            "your losses are half the MSE: nn.MSELoss() is mean((u - y)^2), without the chapter's 1/2",
            "The four steps", "loss_history"),
    Mistake("losses_not_floats", "ex2",
            "the losses must be Python floats: take the number out of the loss tensor with .item(); the tensor "
            "itself keeps its whole computation graph alive", "The four steps", "loss_history"),
    # ex3
    Mistake("drops_last_batch", "ex3",
            "the last, smaller minibatch is missing: DataLoader keeps it unless it is told to drop it (drop_last)",
            "Exercise 3", "minibatches"),
    Mistake("not_shuffled", "ex3",
            "the examples came in their original order: DataLoader shuffles only when asked to (its default is "
            "shuffle=False), and make_loader's shuffle argument decides", "Exercise 3", "minibatches"),
    Mistake("shuffled_once", "ex3",
            "the same order at every epoch: shuffling the data once before building the loader is not enough; "
            "DataLoader draws a new order at each epoch when it shuffles", "Exercise 3", "minibatches"),
    Mistake("ignores_shuffle_argument", "ex3",
            "with shuffle=False the examples must keep their original order: make_loader passes its shuffle "
            "argument on to the DataLoader", "Exercise 3", "minibatches"),
    Mistake("pairs_split", "ex3",
            "some xb rows came with another example's yb: one TensorDataset of both tensors keeps every x with its "
            "y; do not shuffle X_t and y_t separately", "Exercise 3", "minibatches"),
    Mistake("loader_never_steps", "ex3",
            "the parameters never changed: every minibatch needs its backward and then its step", "Exercise 3",
            "minibatch_updates"),
    Mistake("loader_missing_zero_grad", "ex3",
            "gradients add up across minibatches: clear them (zero_grad) before each minibatch's backward",
            "The four steps", "minibatch_updates"),
    Mistake("one_update_per_epoch", "ex3",
            "your model made one update per epoch, with the last minibatch's gradient: the step belongs inside the "
            "minibatch loop, one update per minibatch", "Exercise 3", "minibatch_updates"),
    Mistake("epoch_loss_is_a_sum", "ex3",
            "you reported the sum of the minibatch losses; an epoch's loss is their mean", "Exercise 3",
            "epoch_loss"),
    Mistake("epoch_loss_weighted_by_size", "ex3",
            "report the plain mean of the minibatch losses, each minibatch counting once (the last, smaller one "
            "too), not a mean weighted by their sizes", "Exercise 3", "epoch_loss"),
    Mistake("epoch_loss_is_the_last_batch", "ex3",
            "average the losses of all the epoch's minibatches, not only the last one", "Exercise 3", "epoch_loss"),
    # ex4
    Mistake("product_wrong_order", "ex4",
            "the weights are multiplied in the wrong order: PyTorch stores layer.weight as (out_features, "
            "in_features), the transpose of the chapter's W, so the chapter's product W1 W2 must be transposed "
            "too", "Exercise 4", "pytorch_layout"),
    Mistake("bias_without_b1_w2", "ex4",
            "the bias is missing the b1 W2 term: expand (X W1 + b1) W2 + b2 and collect every term without X",
            "Exercise 4", "pytorch_layout"),
    Mistake("two_layers_returned", "ex4",
            "an nn.Sequential of the two layers computes the same thing but is still two layers: the answer is "
            "one nn.Linear, a new one", "Exercise 4", "pytorch_layout"),
    Mistake("layers_modified", "ex4",
            "{name} was changed: build a new nn.Linear for the merged values and leave both layers as they were",
            "Exercise 4", "pytorch_layout"),
    # ex5
    Mistake("no_nonlinearity", "ex5",
            "without a non-linearity between them two Linear layers collapse to one linear map (exercise 4): a "
            "ReLU goes between them", "Exercise 5", "mlp"),
    Mistake("other_activation", "ex5",
            "the non-linearity asked for is ReLU (the usual default), not {found}", "Exercise 5", "mlp"),
    Mistake("untrained_network", "ex5",
            "the network fit_cubic returned has its initial parameters: it must train it, the four steps (zero "
            "the gradients, loss, backward, step) for a few hundred epochs", "Exercise 5", "trained_network"),
    Mistake("linear_model_for_cubic", "ex5",
            "your model is (nearly) a straight line, and y = x^3 bends: a linear model cannot fit it however long "
            "it trains. Use a network with a non-linearity between its layers, such as make_mlp's", "Exercise 5",
            "cubic_fit"),
    Mistake("cubic_underfit", "ex5",
            "the curve is not fitted well enough on [-2, 2], where training data are sparse near the ends: more "
            "hidden units, more epochs or torch.optim.Adam; plot your model against x^3", "Exercise 5",
            "cubic_fit"),
]}


def named(name: str) -> Mistake:
    """The catalogue's mistake ``name`` (a KeyError names a mistake missing from the catalogue)."""
    return CATALOGUE[name]


def rule(name: str) -> str:
    """The text of the handout convention ``name``, as a failure shows it."""
    return str(CONVENTIONS[name])


def diagnose(seen: Any, candidates: Iterable[Mapping[str, Any]], key: str,
             close: Callable[[Any, Any], bool]) -> tuple[Mistake, dict] | None:
    """The first candidate (most likely first) whose ``key`` value reproduces what was seen, as (its mistake, its
    details); None when no known mistake does. A candidate is ``{"name": ..., "details": {...}, key: value}``;
    those without ``key`` change something else and are passed over."""
    for candidate in candidates:
        if key in candidate and close(seen, candidate[key]):
            return named(candidate["name"]), dict(candidate.get("details") or {})
    return None


def fail_as(name: str, expected: str, seen: str, /, **details: Any) -> NoReturn:
    """Fail naming the known mistake ``name`` (recognised by the check), with its words (``details`` fill in
    their fields) and its rule."""
    mistake = named(name)
    fail(expected, seen, mistake.hint(**details), mistake=mistake.name,
         convention=rule(mistake.convention) if mistake.convention else "")


def fail_with(expected: str, seen: str, found: tuple[Mistake, dict] | None, *, otherwise: str,
              convention: str) -> NoReturn:
    """Fail naming the mistake :func:`diagnose` found, or with the check's general hint ``otherwise`` and the rule
    ``convention`` when no known mistake reproduces what was seen."""
    if found is not None:
        fail_as(found[0].name, expected, seen, **found[1])
    fail(expected, seen, otherwise, convention=rule(convention))


def judge(seen: Any, outcome: Mapping[str, Any], key: str, close: Callable[[Any, Any], bool], *, expected: str,
          otherwise: str, convention: str, recognised: tuple[Mistake, dict] | None = None) -> None:
    """Pass when ``seen`` is close to ``outcome[key]``. Otherwise fail naming ``recognised`` (a mistake the check
    recognised from what the student's object is) or the first of ``outcome["mistakes"]`` that reproduces what
    was seen, else with ``otherwise``; ``expected`` says what was expected."""
    if close(seen, outcome[key]):
        return
    found = recognised or diagnose(seen, outcome["mistakes"], key, close)
    fail_with(expected, fmt(seen), found, otherwise=otherwise, convention=convention)
