"""Bug zoo for pytorch_basics.py: realistic mistakes that must lose points, correct variants that must not."""
from autograder.zoo import REFERENCE_DIR, Alternative, Mutant

REFERENCE = REFERENCE_DIR / "pytorch_basics.py"

_EX2_ZERO_GRAD = "        optimizer.zero_grad()               # 1. forget last epoch's gradients\n"
_EX2_BACKWARD = "        loss.backward()                     # 3. d loss / d parameters\n"
_EX2_STEP = "        optimizer.step()                    # 4. one gradient-descent update\n"

MUTANTS = [
    # ex1: tensors
    Mutant("float64_tensors", exercise="ex1", says="float32",
           replace=[("X_t = torch.tensor(X, dtype=torch.float32)", "X_t = torch.from_numpy(X)")],
           why="torch.from_numpy keeps NumPy's float64; nn.Linear's weights are float32"),
    Mutant("y_not_reshaped", exercise="ex1", says="view(-1, 1)",
           replace=[("y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)",
                     "y_t = torch.tensor(y, dtype=torch.float32)")],
           why="y of shape (n,) broadcasts against the (n, 1) output to (n, n) inside MSELoss"),
    Mutant("y_as_a_row", exercise="ex1", says="view(-1, 1)",
           replace=[("y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)",
                     "y_t = torch.tensor(y, dtype=torch.float32).view(1, -1)")],
           why="a (1, n) row instead of an (n, 1) column"),
    # ex2: the four steps
    Mutant("missing_zero_grad", exercise="ex2", says="zero_grad",
           replace=[(_EX2_ZERO_GRAD, "")],
           why="gradients accumulate across epochs"),
    Mutant("step_before_backward", exercise="ex2", says="before optimizer.step()",
           replace=[(_EX2_BACKWARD + _EX2_STEP, _EX2_STEP + _EX2_BACKWARD)],
           why="the step uses the zeroed gradients, so nothing ever changes"),
    Mutant("ignores_lr", exercise="ex2", says="not with the lr argument",
           replace=[("optimizer = torch.optim.SGD(model.parameters(), lr=lr)",
                     "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)")],
           why="a hard-coded learning rate instead of the argument"),
    Mutant("losses_as_tensors", exercise="ex2", says="item()",
           replace=[("        losses.append(loss.item())\n", "        losses.append(loss)\n")],
           why="the loss tensor (with its graph) instead of a Python float"),
    Mutant("loss_recorded_after_step", exercise="ex2", says="one epoch late",
           replace=[("        losses.append(loss.item())\n",
                     "        losses.append(criterion(model(X_t), y_t).item())\n")],
           why="the loss of the updated model, not the loss before the step"),
    Mutant("ignores_given_model", exercise="ex2", says="model argument",
           replace=[("    if model is None:\n        model = nn.Linear(X_t.shape[1], 1)\n",
                     "    model = nn.Linear(X_t.shape[1], 1)\n")],
           why="always a fresh nn.Linear, so the given initial weights are thrown away"),
    # ex3: DataLoader
    Mutant("loader_not_shuffled", exercise="ex3", says="shuffle",
           replace=[("batch_size=batch_size, shuffle=shuffle)", "batch_size=batch_size)")],
           why="DataLoader's default is shuffle=False"),
    Mutant("loader_drops_last_batch", exercise="ex3", says="drop_last",
           replace=[("batch_size=batch_size, shuffle=shuffle)", "batch_size=batch_size, shuffle=shuffle, drop_last=True)")],
           why="the last partial minibatch is lost"),
    Mutant("loader_shuffles_always", exercise="ex3", says="shuffle argument",
           replace=[("batch_size=batch_size, shuffle=shuffle)", "batch_size=batch_size, shuffle=True)")],
           why="shuffle=False is ignored"),
    Mutant("epoch_loss_is_a_sum", exercise="ex3", says="sum",
           replace=[("sum(batch_losses) / len(batch_losses)", "sum(batch_losses)")],
           why="the per-epoch sum instead of the mean of the minibatch losses"),
    Mutant("one_update_per_epoch", exercise="ex3", says="one update per minibatch",
           replace=[("            batch_loss.backward()\n            opt.step()\n", "            batch_loss.backward()\n"),
                    ("        epoch_losses.append(", "        opt.step()\n        epoch_losses.append(")],
           why="the step outside the minibatch loop: one update per epoch, from the last minibatch's gradient"),
    Mutant("loader_loop_missing_zero_grad", exercise="ex3", says="zero_grad",
           replace=[("            opt.zero_grad()\n", "")],
           why="gradients accumulate across minibatches"),
    # ex4: stacking
    Mutant("collapse_wrong_order", exercise="ex4", says="wrong order",
           replace=[("merged.weight.copy_(W2 @ W1)", "merged.weight.copy_(W1 @ W2)")],
           why="the chapter's W1 W2 written with PyTorch's (out, in) weights"),
    Mutant("collapse_forgets_b1_w2", exercise="ex4", says="b1 W2",
           replace=[("merged.bias.copy_(W2 @ b1 + b2)", "merged.bias.copy_(b2)")],
           why="(X W1 + b1) W2 + b2 has the bias b1 W2 + b2, not b2"),
    Mutant("collapse_returns_sequential", exercise="ex4", says="one nn.Linear",
           replace=[("    return merged\n", "    return nn.Sequential(layer1, layer2)\n")],
           why="still two layers"),
    # ex5: non-linearity
    Mutant("mlp_without_relu", exercise="ex5", says="non-linearity",
           replace=[("nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear", "nn.Linear(in_features, hidden), nn.Linear")],
           why="two stacked linear layers are one linear map"),
    Mutant("mlp_with_sigmoid", exercise="ex5", says="ReLU",
           replace=[("nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear", "nn.Linear(in_features, hidden), nn.Sigmoid(), nn.Linear")],
           why="the contract asks for ReLU"),
    Mutant("linear_model_for_cubic", exercise="ex5", says="non-linearity",
           replace=[("    model = make_mlp(1, hidden=64)\n", "    model = nn.Linear(1, 1)\n")],
           why="a straight line cannot fit y = x^3 (R^2 about 0.8 on [-2, 2])"),
]

ALTERNATIVES = [
    Alternative("from_numpy_float_and_unsqueeze", replace=[
        ("X_t = torch.tensor(X, dtype=torch.float32)", "X_t = torch.from_numpy(X).float()"),
        ("y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)", "y_t = torch.from_numpy(y).float().unsqueeze(1)"),
    ], why="torch.from_numpy(...).float() and unsqueeze(1) instead of torch.tensor(..., dtype) and view(-1, 1)"),
    Alternative("model_zero_grad_and_set_to_none", replace=[
        (_EX2_ZERO_GRAD, "        model.zero_grad()\n"),
        ("            opt.zero_grad()\n", "            opt.zero_grad(set_to_none=True)\n"),
        ("        losses.append(loss.item())\n", "        losses.append(float(loss))\n"),
    ], why="model.zero_grad(), zero_grad(set_to_none=True), float(loss) instead of loss.item()"),
    Alternative("running_totals_and_functional_collapse", replace=[
        ("        batch_losses = []\n", "        total, count = 0.0, 0\n"),
        ("            batch_losses.append(batch_loss.item())\n",
         "            total += batch_loss.detach().item()\n            count += 1\n"),
        ("sum(batch_losses) / len(batch_losses)", "total / count"),
        ("    merged = nn.Linear(layer1.in_features, layer2.out_features)\n    with torch.no_grad():\n"
         "        merged.weight.copy_(W2 @ W1)\n        merged.bias.copy_(W2 @ b1 + b2)\n",
         "    merged = nn.Linear(layer1.in_features, layer2.out_features)\n"
         "    merged.weight = nn.Parameter((W2 @ W1).detach().clone())\n"
         "    with torch.no_grad():\n        merged.bias = nn.Parameter(layer2(b1).clone())\n"),
    ], why="a running total for the epoch mean; the merged bias as layer2(b1), parameters assigned as nn.Parameter"),
    Alternative("sgd_momentum_for_cubic", replace=[
        ("    model = make_mlp(1, hidden=64)\n", "    model = make_mlp(1, hidden=32)\n"),
        ("optimizer = torch.optim.Adam(model.parameters(), lr=0.02)",
         "optimizer = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)"),
    ], why="any optimiser may train fit_cubic's network"),
    Alternative("rmsprop_default_mlp_in_float64", replace=[
        ("    model = make_mlp(1, hidden=64)\n", "    model = make_mlp(1).double()\n    x, y = x.double(), y.double()\n"),
        ("optimizer = torch.optim.Adam(model.parameters(), lr=0.02)",
         "optimizer = torch.optim.RMSprop(model.parameters(), lr=0.005)"),
        ("    for _ in range(500):\n        optimizer.zero_grad()\n        loss = criterion(model(x), y)",
         "    for _ in range(1500):\n        optimizer.zero_grad()\n        loss = criterion(model(x), y)"),
    ], why="the default 16 hidden units, RMSprop, and a float64 network are the student's design choices"),
]

# fit_cubic's network is rebuilt by the grader from its standard layers (issue 11): a module class of one's own is
# fine when forward applies its registered layers in order, or its one activation between its Linear layers.
ALTERNATIVES += [
    Alternative("own_module_with_tanh_registered_first_and_reused", replace=[
        ("    model = make_mlp(1, hidden=64)\n",
         "    class CubicNet(nn.Module):\n"
         "        def __init__(self, hidden=32):\n"
         "            super().__init__()\n"
         "            self.act = nn.Tanh()\n"
         "            self.fc1 = nn.Linear(1, hidden)\n"
         "            self.fc2 = nn.Linear(hidden, hidden)\n"
         "            self.fc3 = nn.Linear(hidden, 1)\n\n"
         "        def forward(self, inputs):\n"
         "            return self.fc3(self.act(self.fc2(self.act(self.fc1(inputs)))))\n\n"
         "    model = CubicNet()\n"),
        ("    for _ in range(500):\n        optimizer.zero_grad()\n        loss = criterion(model(x), y)",
         "    for _ in range(800):\n        optimizer.zero_grad()\n        loss = criterion(model(x), y)"),
    ], why="a subclass of nn.Module whose one Tanh is registered before the Linears and used after each hidden one"),
    Alternative("own_module_applying_its_layers_in_order", replace=[
        ("    model = make_mlp(1, hidden=64)\n",
         "    class CubicNet(nn.Module):\n"
         "        def __init__(self, hidden=64):\n"
         "            super().__init__()\n"
         "            self.hidden = nn.Linear(1, hidden)\n"
         "            self.act = nn.LeakyReLU(0.05)\n"
         "            self.drop = nn.Dropout(0.0)\n"
         "            self.out = nn.Linear(hidden, 1)\n\n"
         "        def forward(self, inputs):\n"
         "            return self.out(self.drop(self.act(self.hidden(inputs))))\n\n"
         "    model = CubicNet()\n"),
    ], why="the chapter's CubicNet pattern with LeakyReLU and a Dropout, layers registered in the order forward uses"),
]

# ex6: CubicNet, the MLP as a subclass of nn.Module (issue 14)
_EX6_INIT = ("        self.fc1 = nn.Linear(1, hidden)\n        self.relu = nn.ReLU()\n"
             "        self.fc2 = nn.Linear(hidden, 1)\n")
_EX6_FORWARD = "        return self.fc2(self.relu(self.fc1(x)))\n"
_EX6_CLASS_HEADER = "class CubicNet(nn.Module):\n"
_EX6_CLASS = _EX6_CLASS_HEADER + REFERENCE.read_text().split(_EX6_CLASS_HEADER, 1)[1]
_FIT_CUBIC_MODEL = "    model = make_mlp(1, hidden=64)\n"
_MAKE_LOADER = "    return DataLoader(TensorDataset(X_t, y_t), batch_size=batch_size, shuffle=shuffle)\n"

MUTANTS += [
    Mutant("cubic_net_subclasses_sequential", exercise="ex6", says="nn.Sequential",
           replace=[(_EX6_CLASS_HEADER, "class CubicNet(nn.Sequential):\n"),
                    (_EX6_INIT, "        nn.Sequential.__init__(self, nn.Linear(1, hidden), nn.ReLU(), "
                                "nn.Linear(hidden, 1))\n"),
                    (_EX6_FORWARD, "        return super().forward(x)\n")],
           why="a subclass of nn.Sequential: the container writes forward"),
    Mutant("cubic_net_function_returning_sequential", exercise="ex6", says="nn.Sequential",
           replace=[(_EX6_CLASS, "def CubicNet(hidden: int = 64) -> nn.Module:\n"
                                 "    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))\n")],
           why="an nn.Sequential returned as is, by a function named like the class"),
    Mutant("cubic_net_relu_as_a_function", exercise="ex6", says="registered",
           replace=[("        self.relu = nn.ReLU()\n", ""),
                    (_EX6_FORWARD, "        return self.fc2(torch.relu(self.fc1(x)))\n")],
           why="torch.relu in forward: the non-linearity is no registered submodule"),
    Mutant("cubic_net_without_nonlinearity", exercise="ex6", says="non-linearity",
           replace=[("        self.relu = nn.ReLU()\n", ""),
                    (_EX6_FORWARD, "        return self.fc2(self.fc1(x))\n")],
           why="two stacked Linear layers, one linear map"),
    Mutant("cubic_net_layers_in_a_plain_list", exercise="ex6", says="registered",
           replace=[(_EX6_INIT, "        self.layers = [nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1)]\n"),
                    (_EX6_FORWARD, "        for layer in self.layers:\n            x = layer(x)\n        return x\n")],
           why="a Python list does not register its modules: the model has no submodules, no parameters"),
    Mutant("cubic_net_ignores_hidden", exercise="ex6", says="hidden argument",
           replace=[("self.fc1 = nn.Linear(1, hidden)", "self.fc1 = nn.Linear(1, 64)"),
                    ("self.fc2 = nn.Linear(hidden, 1)", "self.fc2 = nn.Linear(64, 1)")],
           why="64 hidden units whatever hidden says"),
    Mutant("cubic_net_default_hidden_16", exercise="ex6", says="default is 64",
           replace=[("    def __init__(self, hidden: int = 64) -> None:\n",
                     "    def __init__(self, hidden: int = 16) -> None:\n")],
           why="make_mlp's default hidden=16 instead of the contract's 64"),
    Mutant("cubic_net_forward_flattens", exercise="ex6", says="(n, 1)",
           replace=[(_EX6_FORWARD, "        return self.fc2(self.relu(self.fc1(x))).view(-1)\n")],
           why="predictions of shape (n,), not the (n, 1) column"),
    Mutant("cubic_net_forward_computes_x_cubed", exercise="ex6", says="registered layers",
           replace=[(_EX6_FORWARD, "        return x ** 3\n")],
           why="forward computes the target function itself and ignores its layers"),
    # ex5: the stricter rule on fit_cubic's model, with a CubicNet
    Mutant("fit_cubic_untrained_cubic_net", exercise="ex5", says="initial parameters",
           replace=[(_FIT_CUBIC_MODEL, "    model = CubicNet()\n"),
                    ("    for _ in range(500):\n", "    for _ in range(0):\n")],
           why="a CubicNet returned as built: its parameters never moved"),
    Mutant("fit_cubic_module_computing_x_cubed", exercise="ex5", says="order they are registered",
           replace=[(_FIT_CUBIC_MODEL,
                     "    class Cube(CubicNet):\n"
                     "        def forward(self, inputs):\n"
                     "            return inputs ** 3 + 0 * super().forward(inputs)\n\n"
                     "    model = Cube()\n")],
           why="a CubicNet subclass whose forward computes x^3 directly (its layers only multiplied by 0)"),
    # One mutant for each mistake of the catalogue (mistakes.py) that no mutant above makes: a check names it.
    Mutant("train_linear_with_half_the_mse", exercise="ex2", says="half the MSE",
           replace=[("        loss = criterion(model(X_t), y_t)   # 2.", "        loss = 0.5 * criterion(model(X_t), y_t)   # 2.")],
           why="the chapter's 1/2 kept in the PyTorch loss"),
    Mutant("loader_shuffles_once", exercise="ex3", says="shuffling the data once",
           replace=[(_MAKE_LOADER, "    if shuffle:\n        order = torch.randperm(len(X_t))\n"
                                   "        X_t, y_t = X_t[order], y_t[order]\n"
                                   "    return DataLoader(TensorDataset(X_t, y_t), batch_size=batch_size, shuffle=False)\n")],
           why="one shuffle before the loader is built, the same order at every epoch"),
    Mutant("loader_splits_the_pairs", exercise="ex3", says="another example's yb",
           replace=[(_MAKE_LOADER, "    if shuffle:\n        X_t = X_t[torch.randperm(len(X_t))]\n"
                                   "        y_t = y_t[torch.randperm(len(y_t))]\n" + _MAKE_LOADER)],
           why="X and y shuffled separately"),
    Mutant("loader_training_never_steps", exercise="ex3", says="never changed",
           replace=[("            batch_loss.backward()\n            opt.step()\n", "            batch_loss.backward()\n")],
           why="optimizer.step() forgotten in the minibatch loop"),
    Mutant("epoch_loss_weighted_by_size", exercise="ex3", says="weighted by their sizes",
           replace=[("            batch_losses.append(batch_loss.item())\n"
                     "        epoch_losses.append(sum(batch_losses) / len(batch_losses))\n",
                     "            batch_losses.append(batch_loss.item() * len(xb))\n"
                     "        epoch_losses.append(sum(batch_losses) / len(loader.dataset))\n")],
           why="each minibatch's loss weighted by its size"),
    Mutant("epoch_loss_of_the_last_batch", exercise="ex3", says="not only the last one",
           replace=[("        epoch_losses.append(sum(batch_losses) / len(batch_losses))\n",
                     "        epoch_losses.append(batch_losses[-1])\n")],
           why="the epoch's loss is its last minibatch's"),
    Mutant("collapse_modifies_layer2", exercise="ex4", says="was changed",
           replace=[("    with torch.no_grad():\n        merged.weight.copy_(W2 @ W1)\n",
                     "    with torch.no_grad():\n        layer2.bias.add_(1e-3)\n        b2 = b2 - 1e-3\n"
                     "        merged.weight.copy_(W2 @ W1)\n")],
           why="the merged values right, but layer2's bias changed in place on the way"),
    Mutant("fit_cubic_with_a_functional_relu", exercise="ex5", says="as a function",
           replace=[(_FIT_CUBIC_MODEL, "    class _Net(nn.Module):\n        def __init__(self):\n"
                                       "            super().__init__()\n"
                                       "            self.fc1, self.fc2 = nn.Linear(1, 64), nn.Linear(64, 1)\n\n"
                                       "        def forward(self, inputs):\n"
                                       "            return self.fc2(torch.relu(self.fc1(inputs)))\n\n"
                                       "    model = _Net()\n")],
           why="torch.relu in forward: the non-linearity is no registered layer"),
    Mutant("fit_cubic_underfits", exercise="ex5", says="not fitted well enough",
           replace=[("    for _ in range(500):\n", "    for _ in range(80):\n")],
           why="80 epochs: a bent curve, not yet x^3 near the ends"),
]

ALTERNATIVES += [
    Alternative("fit_cubic_trains_a_cubic_net", replace=[(_FIT_CUBIC_MODEL, "    model = CubicNet()\n")],
                why="the contract: fit_cubic may return a (trained) CubicNet"),
    Alternative("tanh_cubic_net_registered_last_and_trained_by_fit_cubic", replace=[
        (_EX6_INIT, "        self.fc1 = nn.Linear(1, hidden)\n        self.fc2 = nn.Linear(hidden, 1)\n"
                    "        self.act = nn.Tanh()\n"),
        (_EX6_FORWARD, "        return self.fc2(self.act(self.fc1(x)))\n"),
        (_FIT_CUBIC_MODEL, "    model = CubicNet(hidden=32)\n"),
    ], why="any torch.nn non-linearity, registered in any order; fit_cubic trains a CubicNet of another size"),
    Alternative("cubic_net_holding_a_sequential", replace=[
        (_EX6_INIT, "        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))\n"),
        (_EX6_FORWARD, "        return self.net(x)\n"),
    ], why="a subclass of nn.Module of one's own whose layers sit in a registered nn.Sequential attribute"),
]

# The chapter's own code (issue 13): the notebook's training loop (forward and loss first, then zero_grad, backward,
# step) and its DataLoader loop (a running epoch loss divided by len(loader)). Nothing needed adapting.
_EX2_LOOP = ("        optimizer.zero_grad()               # 1. forget last epoch's gradients\n"
             "        loss = criterion(model(X_t), y_t)   # 2. forward pass and loss on all n examples\n"
             "        loss.backward()                     # 3. d loss / d parameters\n"
             "        optimizer.step()                    # 4. one gradient-descent update\n"
             "        losses.append(loss.item())\n")
_EX3_LOOP = ("        batch_losses = []\n"
             "        for xb, yb in loader:\n"
             "            opt.zero_grad()\n"
             "            batch_loss = criterion(model(xb), yb)\n"
             "            batch_loss.backward()\n"
             "            opt.step()\n"
             "            batch_losses.append(batch_loss.item())\n"
             "        epoch_losses.append(sum(batch_losses) / len(batch_losses))\n")
ALTERNATIVES.append(Alternative("chapter_training_loops", replace=[
    ("    for _ in range(epochs):\n" + _EX2_LOOP,
     "    for epoch in range(epochs):\n"
     "        y_pred = model(X_t)\n"
     "        loss = criterion(y_pred, y_t)\n"
     "        optimizer.zero_grad()\n"
     "        loss.backward()\n"
     "        optimizer.step()\n"
     "        losses.append(loss.item())\n"
     "        if (epoch + 1) % 100 == 0:\n"
     "            print(f'Epoch [{epoch + 1}/{epochs}], Loss: {loss.item():.4f}')\n"),
    ("    for _ in range(epochs):\n" + _EX3_LOOP,
     "    for epoch in range(epochs):\n"
     "        epoch_loss = 0.0\n"
     "        for batch_X, batch_y in loader:\n"
     "            predictions = model(batch_X)\n"
     "            loss = criterion(predictions, batch_y)\n"
     "            opt.zero_grad()\n"
     "            loss.backward()\n"
     "            opt.step()\n"
     "            epoch_loss += loss.item()\n"
     "        epoch_losses.append(epoch_loss / len(loader))\n"),
], why="the notebook's loops: zero_grad after the forward pass, a running epoch loss over len(loader) minibatches"))
