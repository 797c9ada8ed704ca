"""Bug zoo for backprop.py: the chapter's traps as mutants of the reference, and correct solutions written
differently (other initialisations, np.dot / einsum, sigmoid' from z, a masked or tanh-based sigmoid, other
shuffles, minibatches through train(epochs=1), lists instead of dicts inside the loops) that must keep full
marks."""
from autograder.zoo import Alternative, Mutant, build_source

SIGMOID_BODY = ("    z = np.asarray(z, dtype=np.float64)\n"
                "    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n")
MSE_RETURN = "    return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n"
BCE_BODY = ("    p = np.clip(y_pred, eps, 1.0 - eps)\n"
            "    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))\n")
DELTA_OUT = "        delta = 2.0 * (a_out - y) / a_out.size * sigmoid_derivative(a_out)\n"
DELTA_HIDDEN = "                delta = (delta @ self.params[f\"W{l}\"].T) * sigmoid_derivative(a_prev)\n"
TRAIN_LOOP = ("            output = self.forward(X)\n"
              "            losses.append(mse_loss(y, output))\n"
              "            grads = self.backward(X, y)\n"
              "            for name in self.params:\n"
              "                self.params[name] -= lr * grads[f\"d{name}\"]\n")
EPOCH_ORDER = ("        for _ in range(epochs):\n"
               "            order = np.random.permutation(m)\n")
BATCH_LOOP = ("                output = self.forward(Xb)\n"
              "                batch_losses.append(mse_loss(yb, output))\n"
              "                grads = self.backward(Xb, yb)\n"
              "                for name in self.params:\n"
              "                    self.params[name] -= lr * grads[f\"d{name}\"]\n")

MUTANTS = [
    # ex1: activations
    Mutant("overflowing_sigmoid", exercise="ex1", says="overflow",
           replace=[(SIGMOID_BODY, "    return 1.0 / (1.0 + np.exp(-z))\n")],
           why="the textbook formula: np.exp(-z) overflows for z = -1000 (RuntimeWarning)"),
    Mutant("np_where_sigmoid_overflows_in_the_unused_branch", exercise="ex1", says="both branches",
           replace=[(SIGMOID_BODY, "    z = np.asarray(z, dtype=np.float64)\n"
                                   "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))\n")],
           why="np.where evaluates both branches: right values, but overflow warnings"),
    Mutant("relu_derivative_one_at_zero", exercise="ex1", says="relu_derivative(0) must be 0",
           replace=[("    return (np.asarray(z) > 0).astype(np.float64)\n",
                     "    return (np.asarray(z) >= 0).astype(np.float64)\n")],
           why="z >= 0 instead of z > 0"),
    Mutant("sigmoid_derivative_applies_sigmoid_again", exercise="ex1", says="already activated value",
           replace=[("    return a * (1.0 - a)\n", "    s = sigmoid(a)\n    return s * (1.0 - s)\n")],
           why="sigmoid'(sigmoid(z)) instead of sigmoid'(z): the argument is already the activation"),
    Mutant("tanh_derivative_of_the_activation", exercise="ex1", says="takes z",
           replace=[("    return 1.0 - np.tanh(z) ** 2\n", "    return 1.0 - z ** 2\n")],
           why="1 - a^2 applied to z"),
    Mutant("sigmoid_sign_flipped", exercise="ex1", says="sign in the exponent",
           replace=[("    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
                     "    return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))\n")],
           why="sigmoid(-z)"),
    # ex2: losses
    Mutant("mse_sum_not_mean", exercise="ex2", says="not the mean",
           replace=[("    return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n",
                     "    return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n")],
           why="sum of squared errors"),
    Mutant("bce_unclipped", exercise="ex2", says="clip",
           replace=[("    p = np.clip(y_pred, eps, 1.0 - eps)\n", "    p = y_pred\n")],
           why="log(0) = -inf for confident predictions"),
    Mutant("bce_fixed_eps", exercise="ex2", says="eps you are given",
           replace=[("    p = np.clip(y_pred, eps, 1.0 - eps)\n", "    p = np.clip(y_pred, 1e-12, 1.0 - 1e-12)\n")],
           why="the eps argument ignored"),
    Mutant("bce_missing_minus", exercise="ex2", says="minus sign",
           replace=[("    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))\n",
                     "    return float(np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))\n")],
           why="the log-likelihood instead of its negative"),
    # ex3: forward_pass
    Mutant("forward_pass_no_output_sigmoid", exercise="ex3", says="needs the sigmoid too",
           replace=[("    a2 = sigmoid(z2)\n    return a2, {", "    a2 = z2\n    return a2, {")],
           why="a linear output layer"),
    Mutant("forward_pass_missing_bias", exercise="ex3", says="bias is missing",
           replace=[("    z1 = X @ W1 + b1\n", "    z1 = X @ W1\n")],
           why="b1 forgotten"),
    # ex4: the single neuron
    Mutant("single_neuron_sign_error", exercise="ex4", says="check the sign",
           replace=[("        delta = 2.0 * (a - y) / a.size * sigmoid_derivative(a)\n",
                     "        delta = 2.0 * (y - a) / a.size * sigmoid_derivative(a)\n")],
           why="(y - y_hat): gradient ascent on the MSE"),
    Mutant("single_neuron_loss_per_step_missing", exercise="ex4", says="one loss per epoch",
           replace=[("        losses.append(mse_loss(y, a))\n", "        if _ % 10 == 0:\n"
                                                              "            losses.append(mse_loss(y, a))\n")],
           why="losses recorded every 10 epochs only"),
    # ex5: backpropagation
    Mutant("cache_without_pre_activations", exercise="ex5", says="self.cache with the keys",
           replace=[('            self.cache[f"z{l}"] = z\n', '')],
           why="forward keeps only the activations; the handout's cache holds every layer's z and a"),
    Mutant("backward_sign_error", exercise="ex5", says="(y_hat - y), not (y - y_hat)",
           replace=[(DELTA_OUT, "        delta = 2.0 * (y - a_out) / a_out.size * sigmoid_derivative(a_out)\n")],
           why="the chapter's 'be careful with derivative signs'"),
    Mutant("backward_missing_output_derivative", exercise="ex5", says="derivative of the activation",
           replace=[(DELTA_OUT, "        delta = 2.0 * (a_out - y) / a_out.size\n")],
           why="delta_L without sigmoid'(z_L)"),
    Mutant("backward_missing_hidden_derivative", exercise="ex5", says="derivative of the activation",
           replace=[(DELTA_HIDDEN, "                delta = delta @ self.params[f\"W{l}\"].T\n")],
           why="delta_{l-1} without sigmoid'(z_{l-1})"),
    Mutant("backward_derivative_of_z", exercise="ex5", says="applied to z",
           replace=[(DELTA_OUT, "        delta = 2.0 * (a_out - y) / a_out.size * "
                                "sigmoid_derivative(self.cache[f\"z{L}\"])\n"),
                    (DELTA_HIDDEN, "                delta = (delta @ self.params[f\"W{l}\"].T) * "
                                   "sigmoid_derivative(self.cache[f\"z{l - 1}\"])\n")],
           why="sigmoid_derivative takes the activation, not z"),
    Mutant("backward_dw_wrong_order", exercise="ex5", says="factors of dW are in the wrong order",
           replace=[("            grads[f\"dW{l}\"] = a_prev.T @ delta\n",
                     "            grads[f\"dW{l}\"] = delta.T @ a_prev\n")],
           why="dW = delta^T a_{l-1}: the transpose of the gradient"),
    Mutant("backward_db_not_summed", exercise="ex5", says="sum delta",
           replace=[("            grads[f\"db{l}\"] = np.sum(delta, axis=0, keepdims=True)\n",
                     "            grads[f\"db{l}\"] = delta\n")],
           why="db of shape (m, n_l): not summed over the samples"),
    Mutant("backward_db_mean", exercise="ex5", says="SUM of delta",
           replace=[("            grads[f\"db{l}\"] = np.sum(delta, axis=0, keepdims=True)\n",
                     "            grads[f\"db{l}\"] = np.mean(delta, axis=0, keepdims=True)\n")],
           why="db averaged although delta already carries the 1/m"),
    Mutant("backward_missing_1_over_m", exercise="ex5", says="the 1/m is missing",
           replace=[(DELTA_OUT, "        delta = 2.0 * (a_out - y) * sigmoid_derivative(a_out)\n")],
           why="the gradient of the sum of squared errors"),
    Mutant("backward_missing_factor_2", exercise="ex5", says="factor 2 is missing",
           replace=[(DELTA_OUT, "        delta = (a_out - y) / a_out.size * sigmoid_derivative(a_out)\n")],
           why="the derivative of (y_hat - y)^2 taken as (y_hat - y)"),
    Mutant("backward_uses_the_next_layers_weights", exercise="ex5", says="delta goes back one layer",
           replace=[(DELTA_HIDDEN, "                delta = (delta @ self.params[f\"W{l}\"].T) * "
                                   "sigmoid_derivative(self.cache[f\"a{l}\"][:, :1])\n")],
           why="the derivative of the wrong layer's activation in the recursion"),
    Mutant("zero_initialisation", exercise="ex5", says="random",
           replace=[("            self.params[f\"W{l}\"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))\n",
                     "            self.params[f\"W{l}\"] = np.zeros((n_in, n_out))\n")],
           why="symmetric start: every hidden unit stays identical"),
    # ex6: train
    Mutant("train_loss_after_update", exercise="ex6", says="before the update",
           replace=[(TRAIN_LOOP, "            output = self.forward(X)\n"
                                 "            grads = self.backward(X, y)\n"
                                 "            for name in self.params:\n"
                                 "                self.params[name] -= lr * grads[f\"d{name}\"]\n"
                                 "            losses.append(mse_loss(y, self.forward(X)))\n")],
           why="the loss of the updated parameters"),
    Mutant("train_gradient_ascent", exercise="ex6", says="UP the gradient",
           replace=[(TRAIN_LOOP, TRAIN_LOOP.replace("-= lr", "+= lr"))],
           why="params += lr * grads"),
    Mutant("train_updates_only_the_weights", exercise="ex6", says="every parameter",
           replace=[(TRAIN_LOOP, TRAIN_LOOP.replace(
               "            for name in self.params:\n",
               "            for name in [k for k in self.params if k[0] == 'W']:\n"))],
           why="the biases never move"),
    # ex7: minibatches
    Mutant("minibatch_shuffles_once", exercise="ex7", says="every epoch",
           replace=[(EPOCH_ORDER, "        order = np.random.permutation(m)\n        for _ in range(epochs):\n")],
           why="one permutation for all epochs"),
    Mutant("minibatch_never_shuffles", exercise="ex7", says="shuffle",
           replace=[(EPOCH_ORDER, "        for _ in range(epochs):\n            order = np.arange(m)\n")],
           why="the examples in their original order"),
    Mutant("minibatch_drops_the_last_partial_batch", exercise="ex7", says="last partial batch",
           replace=[("            for start in range(0, m, batch_size):\n",
                     "            for start in range(0, m - batch_size + 1, batch_size):\n")],
           why="only full minibatches"),
    Mutant("minibatch_weighted_mean", exercise="ex7", says="weighted",
           replace=[("            losses.append(float(np.mean(batch_losses)))\n",
                     "            sizes = [len(order[s:s + batch_size]) for s in range(0, m, batch_size)]\n"
                     "            losses.append(float(np.average(batch_losses, weights=sizes)))\n")],
           why="the loss over the epoch's examples instead of the plain mean of minibatch losses"),
    Mutant("minibatch_loss_after_update", exercise="ex7", says="after each update",
           replace=[(BATCH_LOOP, "                output = self.forward(Xb)\n"
                                 "                grads = self.backward(Xb, yb)\n"
                                 "                for name in self.params:\n"
                                 "                    self.params[name] -= lr * grads[f\"d{name}\"]\n"
                                 "                batch_losses.append(mse_loss(yb, self.forward(Xb)))\n")],
           why="each minibatch's loss after its update"),
    Mutant("minibatch_with_replacement", exercise="ex7", says="exactly once",
           replace=[("                idx = order[start:start + batch_size]\n",
                     "                idx = np.random.randint(0, m, size=len(order[start:start + batch_size]))\n")],
           why="random indices drawn with replacement: some examples twice, others never"),
    Mutant("minibatch_last_loss_only", exercise="ex7", says="last minibatch",
           replace=[("            losses.append(float(np.mean(batch_losses)))\n",
                     "            losses.append(float(batch_losses[-1]))\n")],
           why="the epoch's loss is its last minibatch's"),
    # One mutant for each mistake of the catalogue (mistakes.py) that no mutant above makes: a check names it.
    Mutant("tanh_returns_its_derivative", exercise="ex1", says="tanh' for tanh",
           replace=[("    return np.tanh(z)\n", "    return 1.0 - np.tanh(z) ** 2\n")],
           why="the two functions of the pair mixed up"),
    Mutant("relu_returns_its_derivative", exercise="ex1", says="relu' for relu",
           replace=[("    return np.maximum(0.0, z)\n", "    return (np.asarray(z) > 0).astype(np.float64)\n")],
           why="the two functions of the pair mixed up"),
    Mutant("mse_with_a_half", exercise="ex2", says="a 1/2 in front",
           replace=[(MSE_RETURN, "    return float(0.5 * np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n")],
           why="the 1/2 of the chain-rule convention, where the loss has none"),
    Mutant("mse_root", exercise="ex2", says="the root of the MSE",
           replace=[(MSE_RETURN, "    return float(np.sqrt(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2)))\n")],
           why="RMSE"),
    Mutant("mse_of_absolute_errors", exercise="ex2", says="absolute errors",
           replace=[(MSE_RETURN, "    return float(np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true))))\n")],
           why="MAE"),
    Mutant("bce_swapped_arguments", exercise="ex2", says="swapped arguments",
           replace=[(BCE_BODY, "    p = np.clip(y_true, eps, 1.0 - eps)\n"
                               "    return float(-np.mean(y_pred * np.log(p) + (1.0 - y_pred) * np.log(1.0 - p)))\n")],
           why="bce_loss(y_pred, y_true) inside"),
    Mutant("bce_without_the_negative_class_term", exercise="ex2", says="half the cross-entropy",
           replace=[(BCE_BODY, "    p = np.clip(y_pred, eps, 1.0 - eps)\n    return float(-np.mean(y_true * np.log(p)))\n")],
           why="the (1 - y) log(1 - p) term forgotten"),
    Mutant("bce_summed_over_the_entries", exercise="ex2", says="a sum over the entries",
           replace=[(BCE_BODY, BCE_BODY.replace("-np.mean(", "-np.sum("))],
           why="np.sum where the loss averages"),
    Mutant("forward_linear_hidden_layer", exercise="ex3", says="a linear hidden layer",
           replace=[("    a1 = sigmoid(z1)\n    z2 = a1 @ W2 + b2\n", "    a1 = z1\n    z2 = a1 @ W2 + b2\n")],
           why="no sigmoid on the hidden layer"),
    Mutant("forward_feeds_z_of_the_previous_layer", exercise="ex3", says="z of the previous layer",
           replace=[("    z2 = a1 @ W2 + b2\n", "    z2 = z1 @ W2 + b2\n")],
           why="z1 where a1 belongs"),
    Mutant("forward_returns_z", exercise="ex3", says="z returned",
           replace=[("    a2 = sigmoid(z2)\n    return a2, {", "    a2 = sigmoid(z2)\n    return z2, {")],
           why="the right cache, the output's z returned"),
    Mutant("backward_db_without_its_row_dimension", exercise="ex5", says="db without its row dimension",
           replace=[("            grads[f\"db{l}\"] = np.sum(delta, axis=0, keepdims=True)\n",
                     "            grads[f\"db{l}\"] = np.sum(delta, axis=0)\n")],
           why="keepdims forgotten: db of shape (n_out,) instead of (1, n_out)"),
    Mutant("backward_without_the_2_and_the_mean", exercise="ex5", says="the factor 2 and the 1/m missing",
           replace=[(DELTA_OUT, "        delta = (a_out - y) * sigmoid_derivative(a_out)\n")],
           why="the derivative of the 1/2-summed loss, not of the mean"),
    Mutant("minibatch_history_of_the_whole_set", exercise="ex7", says="the loss of the whole set",
           replace=[("            losses.append(float(np.mean(batch_losses)))\n",
                     "            losses.append(mse_loss(y, self.forward(X)))\n")],
           why="the whole training set's loss after the epoch"),
]


ALTERNATIVES = [
    Alternative(
        "xavier_init_np_dot_einsum_and_clipped_sigmoid",
        why="Xavier-uniform initialisation from an unseeded generator, np.dot and np.einsum instead of @, a sigmoid "
            "that clips z to [-500, 500] (sigmoid(-1000) is then about 7e-218, not 0)",
        replace=[("        rng = np.random.default_rng(seed)\n        for l in range(1, self.n_layers + 1):\n",
                  "        rng = np.random.default_rng()\n        for l in range(1, self.n_layers + 1):\n"),
                 ("            self.params[f\"W{l}\"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))\n",
                  "            limit = np.sqrt(6.0 / (n_in + n_out))\n"
                  "            self.params[f\"W{l}\"] = rng.uniform(-limit, limit, size=(n_in, n_out))\n"),
                 ("            z = a @ self.params[f\"W{l}\"] + self.params[f\"b{l}\"]\n",
                  "            z = np.dot(a, self.params[f\"W{l}\"]) + self.params[f\"b{l}\"]\n"),
                 ("            grads[f\"dW{l}\"] = a_prev.T @ delta\n",
                  "            grads[f\"dW{l}\"] = np.einsum(\"mi,mj->ij\", a_prev, delta)\n"),
                 ("            grads[f\"db{l}\"] = np.sum(delta, axis=0, keepdims=True)\n",
                  "            grads[f\"db{l}\"] = delta.sum(axis=0)[None, :]\n"),
                 (DELTA_HIDDEN,
                  "                delta = np.dot(delta, self.params[f\"W{l}\"].T) * a_prev * (1 - a_prev)\n"),
                 (SIGMOID_BODY, "    z = np.clip(np.asarray(z, dtype=np.float64), -500.0, 500.0)\n"
                                "    return 1.0 / (1.0 + np.exp(-z))\n"),
                 ("    z1 = X @ W1 + b1\n", "    z1 = np.dot(X, W1) + b1\n")]),
    Alternative(
        "masked_sigmoid_where_relu_and_z_derivatives",
        why="a boolean-mask sigmoid that keeps float32, np.where for ReLU, 1 / cosh^2 for tanh', np.minimum / "
            "np.maximum as the clip, sigmoid' computed from z in backward, an unseeded shuffle of an index array",
        replace=[(SIGMOID_BODY, "    z = np.asarray(z)\n"
                                "    if z.dtype.kind != 'f':\n"
                                "        z = z.astype(np.float64)\n"
                                "    out = np.empty_like(z)\n"
                                "    pos = z >= 0\n"
                                "    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))\n"
                                "    ez = np.exp(z[~pos])\n"
                                "    out[~pos] = ez / (1.0 + ez)\n"
                                "    return out if out.ndim else out[()]\n"),
                 ("    return np.maximum(0.0, z)\n", "    return np.where(z > 0, z, 0.0)\n"),
                 ("    return (np.asarray(z) > 0).astype(np.float64)\n",
                  "    return np.where(np.asarray(z) > 0, 1.0, 0.0)\n"),
                 ("    return 1.0 - np.tanh(z) ** 2\n", "    return 1.0 / np.cosh(z) ** 2\n"),
                 ("    p = np.clip(y_pred, eps, 1.0 - eps)\n",
                  "    p = np.minimum(np.maximum(y_pred, eps), 1.0 - eps)\n"),
                 (DELTA_OUT, "        s = sigmoid(self.cache[f\"z{L}\"])\n"
                             "        delta = 2.0 * (a_out - y) / y.size * s * (1.0 - s)\n"),
                 (DELTA_HIDDEN, "                s = sigmoid(self.cache[f\"z{l - 1}\"])\n"
                                "                delta = (delta @ self.params[f\"W{l}\"].T) * s * (1.0 - s)\n"),
                 (EPOCH_ORDER, "        rng = np.random.default_rng()\n"
                               "        for _ in range(epochs):\n"
                               "            order = np.arange(m)\n"
                               "            rng.shuffle(order)\n")]),
    Alternative(
        "tanh_sigmoid_half_mse_neuron_and_minibatches_via_train",
        why="sigmoid as 0.5 (1 + tanh(z / 2)); a single neuron from zeros with the 1/2-MSE gradient (the factor is "
            "the student's choice); minibatches of a shuffled copy of X, each trained by train(epochs=1)",
        replace=[(SIGMOID_BODY, "    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))\n"),
                 ("    w = rng.normal(0.0, 1.0, size=(X.shape[1], 1))\n", "    w = np.zeros((X.shape[1], 1))\n"),
                 ("        delta = 2.0 * (a - y) / a.size * sigmoid_derivative(a)\n",
                  "        delta = (a - y) / len(y) * sigmoid_derivative(a)\n"),
                 ("""            order = np.random.permutation(m)
            batch_losses = []
            for start in range(0, m, batch_size):
                idx = order[start:start + batch_size]
                Xb, yb = X[idx], y[idx]
""" + BATCH_LOOP, """            perm = np.random.permutation(m)
            X_shuffled, y_shuffled = X[perm], y[perm]
            batch_losses = []
            for start in range(0, m, batch_size):
                Xb = X_shuffled[start:start + batch_size]
                yb = y_shuffled[start:start + batch_size]
                batch_losses.extend(self.train(Xb, yb, epochs=1, lr=lr))
""")]),
]


def _lists_source() -> str:
    """The network written with lists of layers and a reversed loop; everything else as in the reference."""
    text = build_source("backprop", Alternative("base"))
    old_backward = text[text.index("        L = self.n_layers\n        a_out"):text.index("        return grads\n")]
    new_backward = (
        "        L = self.n_layers\n"
        "        acts = [self.cache[f\"a{l}\"] for l in range(L + 1)]\n"
        "        deltas = [None] * (L + 1)\n"
        "        deltas[L] = (acts[L] - y) * (2.0 / y.shape[0] / y.shape[1]) * acts[L] * (1 - acts[L])\n"
        "        for l in reversed(range(1, L)):\n"
        "            deltas[l] = deltas[l + 1].dot(self.params[f\"W{l + 1}\"].T) * acts[l] * (1 - acts[l])\n"
        "        grads = {}\n"
        "        for l in range(1, L + 1):\n"
        "            grads[\"dW\" + str(l)] = acts[l - 1].T.dot(deltas[l])\n"
        "            grads[\"db\" + str(l)] = deltas[l].sum(axis=0, keepdims=True)\n")
    text = text.replace(old_backward, new_backward)
    update = "            for name in self.params:\n                self.params[name] -= lr * grads[f\"d{name}\"]\n"
    text = text.replace(update,
                        "            for name in list(self.params):\n"
                        "                self.params[name] = self.params[name] - lr * grads[\"d\" + name]\n", 1)
    return text


ALTERNATIVES.append(Alternative("lists_of_deltas_and_reassigned_params", source=_lists_source(),
                                why="deltas kept in a list, a reversed loop, .dot, parameters reassigned"))


# The chapter's own code (issue 13), in the notebook's style, adapted only where the contract requires (each
# adaptation marked "ADAPTED" in the source).
CHAPTER_ACTIVATIONS_AND_LOSSES = '''def sigmoid(z):
    # ADAPTED (contract ex1): the notebook's 1 / (1 + np.exp(-z)) overflows and warns below z = -709; z is clipped
    # to [-500, 500] first, which changes no float64 value above 1e-217.
    z = np.clip(z, -500, 500)
    return 1 / (1 + np.exp(-z))


def sigmoid_derivative(a):
    # written from the activated value a = sigmoid(z), as the notebook does
    return a * (1 - a)


def tanh(z):
    return np.tanh(z)


def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(0, z)


def relu_derivative(z):
    return (z > 0).astype(float)


def mse_loss(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)


def bce_loss(y_true, y_pred, eps=1e-12):
    y_pred = np.clip(y_pred, eps, 1 - eps)
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


'''

CHAPTER_NETWORK = '''class NeuralNetworkScratch:
    def __init__(self, layer_sizes, seed=42):
        self.layer_sizes = layer_sizes
        rng = np.random.default_rng(seed)
        self.weights = []
        self.biases = []
        for i in range(len(layer_sizes) - 1):
            self.weights.append(rng.standard_normal((layer_sizes[i], layer_sizes[i + 1])) * np.sqrt(1 / layer_sizes[i]))
            self.biases.append(np.zeros((1, layer_sizes[i + 1])))
        # ADAPTED (contract ex5): the same arrays under the names W1..WL, b1..bL, in the dict the grader reads
        self.params = {}
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            self.params[f"W{l}"], self.params[f"b{l}"] = W, b
        self.cache = {}

    def _lists_from_params(self):
        # ADAPTED (contract ex5): the grader puts its own weights in self.params, so the per-layer lists are
        # re-read from it before every use
        L = len(self.layer_sizes) - 1
        self.weights = [self.params[f"W{l}"] for l in range(1, L + 1)]
        self.biases = [self.params[f"b{l}"] for l in range(1, L + 1)]

    def forward(self, X):
        self._lists_from_params()
        self.activations = [X]
        self.z_values = []
        for W, b in zip(self.weights, self.biases):
            z = self.activations[-1] @ W + b
            self.z_values.append(z)
            self.activations.append(sigmoid(z))
        # ADAPTED (contract ex5): the per-layer lists also kept as the cache dict "a0", "z1", "a1", ...
        self.cache = {"a0": X}
        for l, (z, a) in enumerate(zip(self.z_values, self.activations[1:]), start=1):
            self.cache[f"z{l}"], self.cache[f"a{l}"] = z, a
        return self.activations[-1]

    def backward(self, X, y):
        # ADAPTED (contract ex5): the exact gradient of mse_loss, so the factor 2 and the 1 / (entries of y)
        deltas = [None] * len(self.weights)
        deltas[-1] = 2 * (self.activations[-1] - y) / y.size * sigmoid_derivative(self.activations[-1])
        for l in range(len(self.weights) - 2, -1, -1):
            deltas[l] = (deltas[l + 1] @ self.weights[l + 1].T) * sigmoid_derivative(self.activations[l + 1])
        grads = {}
        for l in range(len(self.weights)):
            grads[f"dW{l + 1}"] = self.activations[l].T @ deltas[l]
            grads[f"db{l + 1}"] = np.sum(deltas[l], axis=0, keepdims=True)
        return grads

    def train(self, X, y, epochs=1000, lr=1.0, verbose=False):
        losses = []
        for epoch in range(epochs):
            output = self.forward(X)
            loss = mse_loss(y, output)
            losses.append(loss)
            grads = self.backward(X, y)
            for l in range(len(self.weights)):
                self.weights[l] -= lr * grads[f"dW{l + 1}"]
                self.biases[l] -= lr * grads[f"db{l + 1}"]
            if verbose and epoch % 1000 == 0:
                print(f"Epoch {epoch}, Loss: {loss:.6f}")
        return losses

    def predict(self, X):
        return self.forward(X)


'''


def _spliced(start: str, end: str, replacement: str) -> str:
    """The reference with everything from ``start`` up to (not including) ``end`` replaced."""
    text = build_source("backprop", Alternative("base"))
    i, j = text.index(start), text.index(end)
    return text[:i] + replacement + text[j:]


ALTERNATIVES += [
    Alternative("chapter_activations_and_losses",
                source=_spliced("def sigmoid(z):", "def forward_pass(", CHAPTER_ACTIVATIONS_AND_LOSSES),
                why="the notebook's activations (sigmoid' from the activated value), MSE and clipped BCE"),
    Alternative("chapter_network_with_per_layer_lists",
                source=_spliced("class NeuralNetworkScratch:", "class NeuralNetworkMiniBatch(", CHAPTER_NETWORK),
                why="the notebook's NeuralNetworkScratch: weights, biases, activations and deltas in per-layer lists"),
]
