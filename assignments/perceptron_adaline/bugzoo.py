"""Bug zoo for perceptron_adaline.py: the lecture's traps as mutants of the reference, and correct solutions written
differently (lstsq or pinv for the normal equation, a vectorised perceptron step, a flat-index gradient loop,
np.float64 losses, standard normals scaled by hand, shapes written out) that must keep full marks."""
from autograder.zoo import Alternative, Mutant

PERCEPTRON_RULE = ("                if err != 0:\n                    self.w = self.w + err * X[i]\n"
                   "                    self.b = self.b + err\n                    mistakes += 1\n")
PERCEPTRON_UPDATE = "                    self.w = self.w + err * X[i]\n                    self.b = self.b + err\n"
RELATIVE_RETURN = "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n"
ADALINE_STEP = ("                self.w = self.w - lr * 2.0 * (X[batch].T @ residual) / len(batch)\n"
                "                self.b = self.b - lr * 2.0 * float(np.mean(residual))\n")
SEARCH_DRAWS = ("        w_new = rng.normal(0.0, scale, size=m)\n"
                "        b_new = float(rng.normal(0.0, scale))\n")
NUDGES = ("        point[index] = original + h\n        above = f(point)\n        point[index] = original - h\n"
          "        below = f(point)\n        point[index] = original\n        g[index] = (above - below) / (2 * h)\n")

MUTANTS = [
    # ex1: the perceptron
    Mutant("perceptron_ge_threshold", exercise="ex1", says="threshold",
           replace=[("        return (X @ self.w + self.b > 0).astype(int)\n",
                     "        return (X @ self.w + self.b >= 0).astype(int)\n"),
                    ("                y_hat = 1 if X[i] @ self.w + self.b > 0 else 0\n",
                     "                y_hat = 1 if X[i] @ self.w + self.b >= 0 else 0\n")],
           why="sigma(0) = 1: z >= 0 instead of z > 0"),
    Mutant("perceptron_updates_only_missed_positives", exercise="ex1", says="one class",
           replace=[("                if err != 0:\n                    self.w",
                     "                if err > 0:\n                    self.w")],
           why="the rule applied only to class-1 examples predicted 0 (err = +1), the issue's one-class update"),
    Mutant("perceptron_shuffle_drawn_once", exercise="ex1", says="same shuffled order",
           replace=[("        for _ in range(epochs):\n            order = rng.permutation(n) if shuffle else range(n)\n",
                     "        first = rng.permutation(n) if shuffle else range(n)\n"
                     "        for _ in range(epochs):\n            order = first\n")],
           why="one permutation for every epoch"),
    Mutant("perceptron_generator_created_every_epoch", exercise="ex1", says="same shuffled order",
           replace=[("            order = rng.permutation(n) if shuffle else range(n)\n",
                     "            order = np.random.default_rng(seed).permutation(n) if shuffle else range(n)\n")],
           why="default_rng(seed) inside the epoch loop replays the same permutation"),
    Mutant("perceptron_errors_counted_after_the_epoch", exercise="ex1", says="after the pass",
           replace=[("            errors.append(mistakes)\n",
                     "            errors.append(int(np.sum(self.forward(X) != y)))\n")],
           why="errors = misclassified examples after the pass, not the errors met during it"),
    Mutant("perceptron_errors_as_signed_sum", exercise="ex1", says="errors",
           replace=[("                    mistakes += 1\n", "                    mistakes += err\n")],
           why="errors counted as the sum of err (+1 and -1 cancel) instead of the number of errors"),
    Mutant("perceptron_errors_as_numpy_ints", exercise="ex1", says="Python int",
           replace=[("            errors.append(mistakes)\n", "            errors.append(np.int64(mistakes))\n")],
           why="numpy.int64 counts instead of Python ints"),
    Mutant("perceptron_train_resets_weights", exercise="ex1", says="reset",
           replace=[("        rng = np.random.default_rng(seed)\n        n = len(y)\n        errors: list[int] = []\n",
                     "        rng = np.random.default_rng(seed)\n        n = len(y)\n        errors: list[int] = []\n"
                     "        self.w, self.b = np.zeros(X.shape[1]), 0.0\n")],
           why="train starts from zero every time instead of continuing"),
    Mutant("perceptron_batch_update", exercise="ex1", says="batch update",
           replace=[(PERCEPTRON_RULE,
                     "                if err != 0:\n                    step_w = step_w + err * X[i]\n"
                     "                    step_b = step_b + err\n                    mistakes += 1\n"
                     "            self.w, self.b = self.w + step_w, self.b + step_b\n"),
                    ("            mistakes = 0\n", "            mistakes = 0\n            step_w, step_b = 0.0, 0.0\n")],
           why="all predictions of an epoch with its starting weights, one summed update per epoch"),
    Mutant("perceptron_b_as_int", exercise="ex1", says="float",
           replace=[("        self.w = np.zeros(num_features, dtype=float)\n        self.b = 0.0\n"
                     "        ### END SOLUTION\n\n    def forward(self, X: np.ndarray) -> np.ndarray:\n"
                     "        \"\"\"The predictions",
                     "        self.w = np.zeros(num_features, dtype=float)\n        self.b = 0\n"
                     "        ### END SOLUTION\n\n    def forward(self, X: np.ndarray) -> np.ndarray:\n"
                     "        \"\"\"The predictions")],
           why="b = 0, an int"),
    Mutant("perceptron_forward_returns_booleans", exercise="ex1", says="int",
           replace=[("        return (X @ self.w + self.b > 0).astype(int)\n", "        return X @ self.w + self.b > 0\n")],
           why="a boolean array instead of ints"),
    Mutant("perceptron_evaluate_counts", exercise="ex1", says="fraction",
           replace=[("        return float(np.mean(self.forward(X) == y))\n",
                     "        return float(np.sum(self.forward(X) == y))\n")],
           why="the number of correct predictions instead of the accuracy"),
    # ex2: normal equation and the path
    Mutant("normal_equation_with_inv", exercise="ex2", says="inverse",
           replace=[("    return np.linalg.solve(X.T @ X, X.T @ y)\n", "    return np.linalg.inv(X.T @ X) @ X.T @ y\n")],
           why="the explicit inverse of X^T X, which the contract steers away from"),
    Mutant("normal_equation_with_an_intercept", exercise="ex2", says="shape",
           replace=[("    return np.linalg.solve(X.T @ X, X.T @ y)\n",
                     "    Xb = np.column_stack([np.ones(len(X)), X])\n    return np.linalg.solve(Xb.T @ Xb, Xb.T @ y)\n")],
           why="a column of ones added (the lecture's closed form with a bias; the contract has no intercept)"),
    Mutant("path_appends_the_same_array", exercise="ex2", says="same array",
           replace=[("    path = [beta.copy()]\n    for _ in range(steps):\n"
                     "        beta = beta - lr * (X.T @ (X @ beta - y)) / n\n        path.append(beta.copy())\n",
                     "    path = [beta]\n    for _ in range(steps):\n"
                     "        beta -= lr * (X.T @ (X @ beta - y)) / n\n        path.append(beta)\n")],
           why="an in-place update appended again and again: every row is the last beta"),
    Mutant("path_without_1_over_n", exercise="ex2", says="1/n",
           replace=[("        beta = beta - lr * (X.T @ (X @ beta - y)) / n\n",
                     "        beta = beta - lr * (X.T @ (X @ beta - y))\n")],
           why="the gradient summed over the examples"),
    Mutant("path_sign_error", exercise="ex2", says="ascent",
           replace=[("        beta = beta - lr * (X.T @ (X @ beta - y)) / n\n",
                     "        beta = beta - lr * (X.T @ (y - X @ beta)) / n\n")],
           why="(y - X beta) in the gradient: the path climbs"),
    Mutant("path_ignores_lr", exercise="ex2", says="lr ignored",
           replace=[("        beta = beta - lr * (X.T @ (X @ beta - y)) / n\n",
                     "        beta = beta - 0.1 * (X.T @ (X @ beta - y)) / n\n")],
           why="the notebook's 0.1 hard-coded"),
    Mutant("path_without_the_start_row", exercise="ex2", says="row 0",
           replace=[("    path = [beta.copy()]\n", "    path = []\n")],
           why="steps rows instead of steps + 1"),
    # ex3: gradient checking and the chain rule
    Mutant("numerical_gradient_forward_differences", exercise="ex3", says="forward difference",
           replace=[(NUDGES, "        point[index] = original + h\n        above = f(point)\n"
                             "        point[index] = original\n        below = f(point)\n"
                             "        g[index] = (above - below) / h\n")],
           why="(f(w + h) - f(w)) / h: O(h) accurate"),
    Mutant("numerical_gradient_changes_w_in_place", exercise="ex3", says="in place",
           replace=[("    point = np.array(w, dtype=float)\n", "    point = w\n"),
                    ("        point[index] = original\n        g[index]", "        g[index]")],
           why="nudges w itself and never puts the last entry back"),
    Mutant("numerical_gradient_ignores_h", exercise="ex3", says="h ignored",
           replace=[("    point = np.array(w, dtype=float)\n", "    point = np.array(w, dtype=float)\n    h = 1e-5\n")],
           why="the default step hard-coded"),
    Mutant("numerical_gradient_only_for_vectors", exercise="ex3", says="shape",
           replace=[("    for index in np.ndindex(point.shape):\n", "    for index in range(len(point)):\n")],
           why="range(len(w)) walks the rows of a 2-D w and fails on a 0-d one"),
    Mutant("numerical_gradient_missing_2", exercise="ex3", says="2h apart",
           replace=[("        g[index] = (above - below) / (2 * h)\n", "        g[index] = (above - below) / h\n")],
           why="the central difference divided by h"),
    Mutant("relative_error_without_the_floor", exercise="ex3", says="floor",
           replace=[("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n",
                     "    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))\n")],
           why="0 / 0 where both entries are 0"),
    Mutant("relative_error_mean", exercise="ex3", says="max",
           replace=[("    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n",
                     "    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))\n")],
           why="the mean entry instead of the worst"),
    Mutant("chain_rule_swapped", exercise="ex3", says="swapped",
           replace=[("    return float(2 * x * y), float(x ** 2 + 1)\n", "    return float(x ** 2 + 1), float(2 * x * y)\n")],
           why="(df/dy, df/dx)"),
    Mutant("chain_rule_forgets_the_plus_y", exercise="ex3", says="d(y)/dy = 1",
           replace=[("    return float(2 * x * y), float(x ** 2 + 1)\n", "    return float(2 * x * y), float(x ** 2)\n")],
           why="df/dy = x^2"),
    # ex4: Adaline
    Mutant("adaline_sgd_sign_error", exercise="ex4", says="sign error",
           replace=[("                residual = self.forward(X[batch]) - y[batch]\n",
                     "                residual = y[batch] - self.forward(X[batch])\n")],
           why="(y - y_hat) where the derivative is (y_hat - y): the slide's sign error"),
    Mutant("adaline_half_gradient", exercise="ex4", says="1/2",
           replace=[(ADALINE_STEP, ADALINE_STEP.replace("lr * 2.0 *", "lr *"))],
           why="the gradient of 1/2 MSE: the factor 2 missing"),
    Mutant("adaline_factor_2_twice", exercise="ex4", says="factor 2",
           replace=[(ADALINE_STEP, ADALINE_STEP.replace("lr * 2.0 *", "lr * 4.0 *"))],
           why="the factor 2 doubled"),
    Mutant("adaline_drops_the_last_partial_batch", exercise="ex4", says="partial",
           replace=[("            for start in range(0, n, batch_size):\n",
                     "            for start in range(0, n - batch_size + 1, batch_size):\n")],
           why="only full minibatches"),
    Mutant("adaline_shuffle_drawn_once", exercise="ex4", says="same order",
           replace=[("        for _ in range(epochs):\n            order = rng.permutation(n)\n",
                     "        order = rng.permutation(n)\n        for _ in range(epochs):\n")],
           why="one permutation for every epoch"),
    Mutant("adaline_loss_of_the_minibatches", exercise="ex4", says="minibatch loss",
           replace=[("            losses.append(float(np.mean((self.forward(X) - y) ** 2)))\n",
                     "            losses.append(float(np.mean(batch_losses)))\n"),
                    ("                residual = self.forward(X[batch]) - y[batch]\n",
                     "                residual = self.forward(X[batch]) - y[batch]\n"
                     "                batch_losses.append(float(np.mean(residual ** 2)))\n"),
                    ("            order = rng.permutation(n)\n",
                     "            order = rng.permutation(n)\n            batch_losses = []\n")],
           why="the mean of the minibatch losses during the epoch instead of the MSE after it"),
    Mutant("adaline_losses_as_an_array", exercise="ex4", says="list",
           replace=[("        return losses\n        ### END SOLUTION\n\n\n# --- Exercise 5",
                     "        return np.array(losses)\n        ### END SOLUTION\n\n\n# --- Exercise 5")],
           why="an array instead of a list of floats"),
    Mutant("adaline_forward_thresholds", exercise="ex4", says="linear activation",
           replace=[("        return X @ self.w + self.b\n", "        return (X @ self.w + self.b > 0.5).astype(float)\n")],
           why="a threshold inside the activation: Adaline trains on the linear output, the threshold is predict's"),
    Mutant("adaline_accepts_any_batch_size", exercise="ex4", says="ValueError",
           replace=[("        if not 1 <= batch_size <= n:\n"
                     "            raise ValueError(f\"batch_size must be between 1 and n={n}, got {batch_size}\")\n",
                     "")],
           why="no validation: n + 1 silently runs batch mode"),
    Mutant("adaline_predict_at_zero", exercise="ex4", says="0.5",
           replace=[("        return (self.forward(X) > 0.5).astype(int)\n", "        return (self.forward(X) > 0).astype(int)\n")],
           why="the perceptron's threshold at 0 for 0/1 labels"),
    # ex5: parameters and shapes
    Mutant("count_parameters_without_biases", exercise="ex5", says="biases not counted",
           replace=[("    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))\n",
                     "    return int(sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))\n")],
           why="weights only"),
    Mutant("count_parameters_as_a_numpy_int", exercise="ex5", says="Python int",
           replace=[("    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))\n",
                     "    sizes = np.array(layer_sizes)\n    return np.sum(sizes[:-1] * sizes[1:] + sizes[1:])\n")],
           why="numpy.int64 from np.sum"),
    Mutant("mnist_shapes_as_lists", exercise="ex5", says="tuple",
           replace=[("    return {name: tuple(int(d) for d in array.shape)\n",
                     "    return {name: [int(d) for d in array.shape]\n")],
           why="lists instead of tuples"),
    Mutant("mnist_shapes_with_numpy_ints", exercise="ex5", says="Python int",
           replace=[("    return {name: tuple(int(d) for d in array.shape)\n",
                     "    return {name: tuple(np.int64(d) for d in array.shape)\n")],
           why="numpy.int64 entries"),
    Mutant("mnist_flattened_as_one_vector", exercise="ex5", says="784",
           replace=[("    flattened = images.reshape(batch_size, -1)\n    logits = flattened @ np.zeros((flattened.shape[1], 10))\n",
                     "    flattened = images.reshape(-1)\n    logits = np.zeros((batch_size, 10))\n")],
           why="the whole batch flattened into one vector"),
    # ex6: random search
    Mutant("random_search_draws_b_before_w", exercise="ex6", says="b drawn before w",
           replace=[(SEARCH_DRAWS, "        b_new = float(rng.normal(0.0, scale))\n"
                                   "        w_new = rng.normal(0.0, scale, size=m)\n")],
           why="the draws in the other order"),
    Mutant("random_search_keeps_worse_candidates", exercise="ex6", says="worse candidates",
           replace=[("        if loss < best:\n", "        if True:\n")],
           why="every candidate accepted"),
    Mutant("random_search_records_the_candidate_loss", exercise="ex6", says="candidate",
           replace=[("        losses.append(best)\n", "        losses.append(loss)\n")],
           why="each trial's own MSE instead of the best so far"),
    Mutant("random_search_ignores_scale", exercise="ex6", says="scale",
           replace=[(SEARCH_DRAWS, SEARCH_DRAWS.replace("0.0, scale", "0.0, 1.0"))],
           why="standard normals whatever the scale"),
    Mutant("random_search_generator_every_trial", exercise="ex6", says="same candidate",
           replace=[("    for _ in range(n_trials):\n        w_new",
                     "    for _ in range(n_trials):\n        rng = np.random.default_rng(seed)\n        w_new")],
           why="default_rng(seed) inside the loop: the same candidate every trial"),
    # One mutant for each mistake of the catalogue (mistakes.py) that no mutant above makes: a check names it.
    Mutant("perceptron_sign_error", exercise="ex1", says="a sign error",
           replace=[(PERCEPTRON_UPDATE, "                    self.w = self.w - err * X[i]\n"
                                        "                    self.b = self.b - err\n")],
           why="w -= err * x_i, b -= err"),
    Mutant("perceptron_bias_not_updated", exercise="ex1", says="b never moves",
           replace=[(PERCEPTRON_UPDATE, "                    self.w = self.w + err * X[i]\n")],
           why="the bias update forgotten"),
    Mutant("perceptron_ignores_shuffle", exercise="ex1", says="shuffle ignored",
           replace=[("            order = rng.permutation(n) if shuffle else range(n)\n", "            order = range(n)\n")],
           why="the stored order whatever shuffle says"),
    Mutant("perceptron_errors_cumulative", exercise="ex1", says="errors accumulated",
           replace=[("            mistakes = 0\n", ""),
                    ("        errors: list[int] = []\n", "        errors: list[int] = []\n        mistakes = 0\n")],
           why="the counter set to 0 once per call, not once per epoch"),
    Mutant("path_with_the_plain_mse_factor_2", exercise="ex2", says="the derivative of the plain MSE",
           replace=[("        beta = beta - lr * (X.T @ (X @ beta - y)) / n\n",
                     "        beta = beta - lr * 2 * (X.T @ (X @ beta - y)) / n\n")],
           why="the 2 of the square kept although l has a 1/2"),
    Mutant("numerical_gradient_backward_differences", exercise="ex3", says="backward differences",
           replace=[("        g[index] = (above - below) / (2 * h)\n",
                     "        g[index] = (f(np.array(w, dtype=float)) - below) / h\n")],
           why="(f(w) - f(w - h e_i)) / h"),
    Mutant("relative_error_max_denominator", exercise="ex3", says="max(|a|, |b|)",
           replace=[(RELATIVE_RETURN, "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), "
                                      "np.abs(b)))))\n")],
           why="max(|a|, |b|) as the denominator"),
    Mutant("relative_error_abs_of_sum", exercise="ex3", says="|a + b|",
           replace=[(RELATIVE_RETURN, "    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))\n")],
           why="|a + b| as the denominator"),
    Mutant("chain_rule_drops_y", exercise="ex3", says="y dropped",
           replace=[("    return float(2 * x * y), float(x ** 2 + 1)\n", "    return float(2 * x), float(x ** 2 + 1)\n")],
           why="d(x^2 y)/dx = 2x"),
    Mutant("adaline_sum_not_mean", exercise="ex4", says="a missing 1/|B|",
           replace=[(ADALINE_STEP, "                self.w = self.w - lr * 2.0 * (X[batch].T @ residual)\n"
                                   "                self.b = self.b - lr * 2.0 * float(np.sum(residual))\n")],
           why="the minibatch gradient summed"),
    Mutant("adaline_sequential_update", exercise="ex4", says="a sequential update",
           replace=[(ADALINE_STEP, "                self.w = self.w - lr * 2.0 * (X[batch].T @ residual) / len(batch)\n"
                                   "                self.b = self.b - lr * 2.0 * float(np.mean(self.forward(X[batch]) "
                                   "- y[batch]))\n")],
           why="b's residual recomputed with the new w"),
    Mutant("adaline_without_shuffling", exercise="ex4", says="no shuffle",
           replace=[("            order = rng.permutation(n)\n", "            order = np.arange(n)\n")],
           why="every epoch in the stored order"),
    Mutant("count_parameters_with_input_biases", exercise="ex5", says="biases on the inputs",
           replace=[("    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))\n",
                     "    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) "
                     "+ layer_sizes[0])\n")],
           why="a bias for every input unit too"),
]

ALTERNATIVES = [
    Alternative("normal_equation_by_lstsq", why="the contract allows lstsq on X itself",
                replace=[("    return np.linalg.solve(X.T @ X, X.T @ y)\n",
                          "    beta, *_ = np.linalg.lstsq(X, y, rcond=None)\n    return beta\n")]),
    Alternative("normal_equation_by_pinv_of_X", why="the pseudo-inverse of X (not of X^T X) is backward stable too",
                replace=[("    return np.linalg.solve(X.T @ X, X.T @ y)\n", "    return np.linalg.pinv(X) @ y\n")]),
    Alternative("perceptron_with_the_bias_as_a_weight_and_np_where",
                why="the bias folded into an augmented weight vector, predictions with np.where",
                replace=[("        return (X @ self.w + self.b > 0).astype(int)\n",
                          "        return np.where(np.dot(X, self.w) + self.b > 0, 1, 0)\n"),
                         (PERCEPTRON_RULE,
                          "                if err:\n                    theta = np.append(self.w, self.b) + err * np.append(X[i], 1.0)\n"
                          "                    self.w, self.b = theta[:-1], float(theta[-1])\n"
                          "                    mistakes = mistakes + 1\n")]),
    Alternative("numerical_gradient_over_a_flat_copy",
                why="a loop over the flat entries of a copy, reshaped at the end",
                replace=[(NUDGES.join(["    point = np.array(w, dtype=float)\n    g = np.zeros_like(point)\n"
                                       "    for index in np.ndindex(point.shape):\n        original = point[index]\n",
                                       "    return g\n"]),
                          "    shape = np.shape(w)\n    flat = np.array(w, dtype=float).reshape(-1)\n"
                          "    g = np.empty(flat.size)\n    for i in range(flat.size):\n"
                          "        plus, minus = flat.copy(), flat.copy()\n        plus[i] += h\n        minus[i] -= h\n"
                          "        g[i] = (f(plus.reshape(shape)) - f(minus.reshape(shape))) / (2 * h)\n"
                          "    return g.reshape(shape)\n")]),
    Alternative("adaline_with_numpy_float_losses_and_explicit_batches",
                why="np.float64 losses, the batches listed first, the bias gradient as a sum over |B|",
                replace=[("            for start in range(0, n, batch_size):\n                batch = order[start:start + batch_size]\n",
                          "            batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]\n"
                          "            for batch in batches:\n"),
                         (ADALINE_STEP,
                          "                grad_w = 2.0 * np.dot(X[batch].T, residual) / len(batch)\n"
                          "                grad_b = 2.0 * residual.sum() / len(batch)\n"
                          "                self.w, self.b = self.w - lr * grad_w, self.b - lr * grad_b\n"),
                         ("            losses.append(float(np.mean((self.forward(X) - y) ** 2)))\n",
                          "            losses.append(np.mean((self.forward(X) - y) ** 2))\n")]),
    Alternative("random_search_with_scaled_standard_normals",
                why="rng.standard_normal scaled by hand draws the same numbers as rng.normal(0, scale)",
                replace=[(SEARCH_DRAWS, "        w_new = scale * rng.standard_normal(m)\n"
                                        "        b_new = scale * rng.standard_normal()\n")]),
    Alternative("shapes_written_out_and_parameters_in_a_loop", why="the shapes reasoned out, a loop over layers",
                replace=[("    images = np.zeros((batch_size, 28, 28))\n    flattened = images.reshape(batch_size, -1)\n"
                          "    logits = flattened @ np.zeros((flattened.shape[1], 10))\n"
                          "    return {name: tuple(int(d) for d in array.shape)\n"
                          "            for name, array in ((\"input\", images), (\"flattened\", flattened), (\"logits\", logits))}\n",
                          "    b = int(batch_size)\n    return {\"input\": (b, 28, 28), \"flattened\": (b, 28 * 28), \"logits\": (b, 10)}\n"),
                         ("    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))\n",
                          "    total = 0\n    for i in range(1, len(layer_sizes)):\n"
                          "        total += layer_sizes[i - 1] * layer_sizes[i] + layer_sizes[i]\n    return total\n")]),
]
