"""Neural networks from scratch: activations, losses, a forward pass, backpropagation, XOR, spirals, minibatches.

Shapes used throughout: X (m, n_in), one row per example; weights W (n_in, n_out); biases b (1, n_out);
labels y (m, 1). Only NumPy is needed.
"""
import numpy as np


# --------------------------------------------------------------------------------------------------------------
# Given (not an exercise): the two-class spiral data set.
# --------------------------------------------------------------------------------------------------------------
def make_spirals(n_points=200, noise=0.5):
    """Two interleaved spiral arms, one per class.

    Returns X of shape (n_points, 2) (raw coordinates: standardise them before training) and y of shape
    (n_points, 1): the first n_points / 2 rows are class 0, the rest class 1. The data are the same at every call.
    """
    rng = np.random.default_rng(0)
    half = n_points // 2
    t = np.sqrt(rng.random(half)) * np.deg2rad(780.0)
    arm = np.stack([-np.cos(t) * t, np.sin(t) * t], axis=1)
    X = np.vstack([arm, -arm]) + noise * rng.standard_normal((2 * half, 2))
    y = np.concatenate([np.zeros(half), np.ones(half)]).reshape(-1, 1)
    return X, y


# --------------------------------------------------------------------------------------------------------------
# Exercise 1: activation functions and their derivatives
# --------------------------------------------------------------------------------------------------------------
def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), elementwise.

    Must not overflow (no RuntimeWarning) for large |z|: sigmoid(1000) is 1.0 and sigmoid(-1000) is 0.0.
    """
    # TODO: np.exp(-z) overflows for z around -710. Compute exp only of non-positive numbers: for z >= 0 use
    # 1 / (1 + exp(-z)); for z < 0 use exp(z) / (1 + exp(z)). np.where evaluates both branches, so either
    # split the array with a boolean mask or compute e = exp(-|z|) once.
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def sigmoid_derivative(a):
    """The derivative of the sigmoid written with its output: takes a = sigmoid(z), returns a (1 - a)."""
    # TODO: do NOT apply sigmoid again: `a` is already the activation.
    ### BEGIN SOLUTION
    return a * (1.0 - a)
    ### END SOLUTION


def tanh(z):
    """The hyperbolic tangent, elementwise."""
    ### BEGIN SOLUTION
    return np.tanh(z)
    ### END SOLUTION


def tanh_derivative(z):
    """The derivative of tanh at z (takes z, not the activation): 1 - tanh(z)^2."""
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(z) ** 2
    ### END SOLUTION


def relu(z):
    """max(0, z), elementwise."""
    ### BEGIN SOLUTION
    return np.maximum(0.0, z)
    ### END SOLUTION


def relu_derivative(z):
    """1 where z > 0, else 0 (so 0 at z = 0), as floats of the same shape as z."""
    ### BEGIN SOLUTION
    return (np.asarray(z) > 0).astype(np.float64)
    ### END SOLUTION


# --------------------------------------------------------------------------------------------------------------
# Exercise 2: loss functions
# --------------------------------------------------------------------------------------------------------------
def mse_loss(y_true, y_pred):
    """Mean squared error: the mean over all entries of (y_pred - y_true)^2, as a float."""
    ### BEGIN SOLUTION
    return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))
    ### END SOLUTION


def bce_loss(y_true, y_pred, eps=1e-12):
    """Binary cross-entropy averaged over all entries, with predictions clipped to [eps, 1 - eps].

    -mean(y log p + (1 - y) log(1 - p)), p the clipped predictions. Finite even for predictions of exactly 0 or 1.
    """
    # TODO: clip first (np.clip), then take the logs: log(0) is -inf.
    ### BEGIN SOLUTION
    p = np.clip(y_pred, eps, 1.0 - eps)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))
    ### END SOLUTION


# --------------------------------------------------------------------------------------------------------------
# Exercise 3: the forward pass of a two-layer network
# --------------------------------------------------------------------------------------------------------------
def forward_pass(X, W1, b1, W2, b2):
    """Two sigmoid layers: z1 = X W1 + b1, a1 = sigmoid(z1), z2 = a1 W2 + b2, a2 = sigmoid(z2).

    Returns (a2, cache) with cache = {"z1": z1, "a1": a1, "z2": z2, "a2": a2}.
    """
    ### BEGIN SOLUTION
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    return a2, {"z1": z1, "a1": a1, "z2": z2, "a2": a2}
    ### END SOLUTION


# --------------------------------------------------------------------------------------------------------------
# Exercise 4: a single sigmoid neuron (AND yes, XOR no)
# --------------------------------------------------------------------------------------------------------------
def train_single_neuron(X, y, lr=1.0, epochs=1000, seed=42):
    """Train one sigmoid neuron a = sigmoid(X w + b) on the MSE by full-batch gradient descent.

    Returns (w, b, losses): w of shape (n_in, 1), b of shape (1, 1), losses one MSE per epoch (before the update).
    """
    # TODO: initialise w (small random numbers from np.random.default_rng(seed)) and b; then every epoch:
    # forward, record the loss, delta = dL/dz = dL/da * sigmoid_derivative(a), the gradients, the update.
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.0, size=(X.shape[1], 1))
    b = np.zeros((1, 1))
    losses = []
    for _ in range(epochs):
        a = sigmoid(X @ w + b)
        losses.append(mse_loss(y, a))
        delta = 2.0 * (a - y) / a.size * sigmoid_derivative(a)
        w = w - lr * X.T @ delta
        b = b - lr * np.sum(delta, axis=0, keepdims=True)
    return w, b, losses
    ### END SOLUTION


# --------------------------------------------------------------------------------------------------------------
# Exercises 5 and 6: a fully connected network trained by backpropagation
# --------------------------------------------------------------------------------------------------------------
class NeuralNetworkScratch:
    """A fully connected network with a sigmoid at every layer, trained on the MSE.

    ``layer_sizes`` lists the widths from input to output, e.g. [2, 4, 1]. ``params`` holds "W1".."WL" of shape
    (n_{l-1}, n_l) and "b1".."bL" of shape (1, n_l).
    """

    def __init__(self, layer_sizes, seed=42):
        self.layer_sizes = list(layer_sizes)
        self.n_layers = len(self.layer_sizes) - 1
        self.params = {}
        self.cache = {}
        # TODO: for l = 1..L create self.params[f"W{l}"] (random, e.g. normal with standard deviation
        # 1 / sqrt(n_{l-1}), from np.random.default_rng(seed)) and self.params[f"b{l}"] (zeros).
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        for l in range(1, self.n_layers + 1):
            n_in, n_out = self.layer_sizes[l - 1], self.layer_sizes[l]
            self.params[f"W{l}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
            self.params[f"b{l}"] = np.zeros((1, n_out))
        ### END SOLUTION

    def forward(self, X):
        """Sigmoid at every layer; keeps self.cache with "a0" = X, "z1", "a1", ..., "zL", "aL"; returns aL."""
        ### BEGIN SOLUTION
        a = X
        self.cache = {"a0": X}
        for l in range(1, self.n_layers + 1):
            z = a @ self.params[f"W{l}"] + self.params[f"b{l}"]
            a = sigmoid(z)
            self.cache[f"z{l}"] = z
            self.cache[f"a{l}"] = a
        return a
        ### END SOLUTION

    def backward(self, X, y):
        """The gradient of mse_loss(y, forward(X)) with respect to every parameter.

        Uses self.cache from the last forward(X). Returns {"dW1": ..., "db1": ..., ..., "dWL": ..., "dbL": ...},
        each with the shape of its parameter.
        """
        # TODO: delta_L = dL/dz_L = 2 (a_L - y) / (number of entries of y) * sigmoid_derivative(a_L);
        # then for l = L..1: dW_l = a_{l-1}^T delta_l, db_l = sum of delta_l over the samples (keepdims=True),
        # and delta_{l-1} = (delta_l W_l^T) * sigmoid_derivative(a_{l-1}).
        ### BEGIN SOLUTION
        L = self.n_layers
        a_out = self.cache[f"a{L}"]
        delta = 2.0 * (a_out - y) / a_out.size * sigmoid_derivative(a_out)
        grads = {}
        for l in range(L, 0, -1):
            a_prev = self.cache[f"a{l - 1}"]
            grads[f"dW{l}"] = a_prev.T @ delta
            grads[f"db{l}"] = np.sum(delta, axis=0, keepdims=True)
            if l > 1:
                delta = (delta @ self.params[f"W{l}"].T) * sigmoid_derivative(a_prev)
        return grads
        ### END SOLUTION

    def train(self, X, y, epochs=1000, lr=1.0, verbose=False):
        """Full-batch gradient descent; returns the list of losses, one per epoch, computed before the update."""
        ### BEGIN SOLUTION
        losses = []
        for epoch in range(epochs):
            output = self.forward(X)
            losses.append(mse_loss(y, output))
            grads = self.backward(X, y)
            for name in self.params:
                self.params[name] -= lr * grads[f"d{name}"]
            if verbose and epoch % 100 == 0:
                print(f"epoch {epoch}: loss {losses[-1]:.6f}")
        return losses
        ### END SOLUTION

    def predict(self, X):
        """The network's output activations for X (no thresholding)."""
        ### BEGIN SOLUTION
        return self.forward(X)
        ### END SOLUTION


# --------------------------------------------------------------------------------------------------------------
# Exercise 7: minibatch training
# --------------------------------------------------------------------------------------------------------------
class NeuralNetworkMiniBatch(NeuralNetworkScratch):
    """The same network, trained on minibatches."""

    def train_minibatch(self, X, y, epochs=500, lr=0.5, batch_size=32):
        """Minibatch gradient descent; returns one loss per epoch.

        Every epoch: shuffle the examples anew, walk through consecutive minibatches of ``batch_size`` (the last
        one may be smaller: use it too), one update per minibatch; the epoch's loss is the plain mean of its
        minibatch losses (each computed before that minibatch's update).
        """
        ### BEGIN SOLUTION
        m = X.shape[0]
        losses = []
        for _ in range(epochs):
            order = np.random.permutation(m)
            batch_losses = []
            for start in range(0, m, batch_size):
                idx = order[start:start + batch_size]
                Xb, yb = X[idx], y[idx]
                output = self.forward(Xb)
                batch_losses.append(mse_loss(yb, output))
                grads = self.backward(Xb, yb)
                for name in self.params:
                    self.params[name] -= lr * grads[f"d{name}"]
            losses.append(float(np.mean(batch_losses)))
        return losses
        ### END SOLUTION
