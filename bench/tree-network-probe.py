#!/usr/bin/env python3
"""A probe, not part of mlops: a dense ReLU network compiled exactly from a GradientBoostingClassifier (100 depth-3 trees).

Issue 13's open gap is gradient boosting's ranking on tables whose exact values name the class (cars, ionosphere, glass).
mlops serves a plain dense ReLU network, and a boosted tree ensemble compiles into one (after Humbird, Peterson and McClarren 2018,
"Deep neural network initialization with decision trees"): two units a split (a steep ramp), one a leaf, the leaf values in the
head. This script measures, on bench/real-data.py's tables and splits, F1 on the 20% for the compiled network, the whole of it
fine-tuned ("ft"), and with an MLP 64-32 beside it trained jointly ("comb") or with the tree block frozen ("combfz", COMBFZ=1 or
VARIANTS=combfz), epochs and threshold from 5-fold out-of-fold predictions. The README's issue-13 section gives the figures.

Usage: /usr/bin/python3 bench/tree-network-probe.py TABLE [SPLITS e.g. 0,1,2,3] [--no-combined] [--cv inner15|cv5] [--epochs N]
(TABLE: a key of ALLOWED; needs python3-torch). Appends one JSON line per (table, split) to RESULTS (default tree-network-probe.jsonl
in the current folder). RAMP_OFF=0.5 gives the centred ramp, FT_LR the fine-tuning learning rate.
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
# 0.5: the brief's centred ramp (x == t gives s = 0.5); 0.0: one-sided ramp from t to t + 1/k (x <= t gives s = 0, as sklearn's x <= t goes left)
RAMP_OFF = float(os.environ.get('RAMP_OFF', '0.0'))
spec = importlib.util.spec_from_file_location("realdata", os.path.join(os.path.dirname(os.path.abspath(__file__)), "real-data.py"))
rd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rd)

ALLOWED = {  # the first five rounds (MLOPS_REAL_HELD_OUT unset, 1, 2, 3); the sixth stays held out
    "breast_cancer": rd.breast_cancer, "diabetes": rd.diabetes, "wine": rd.wine, "weather": rd.weather, "digits": rd.digits,
    "boston": rd.boston, "iris": rd.iris,
    "cars": rd.cars, "penguins": rd.penguins, "anes96": rd.anes96, "fair": rd.fair,
    "cps_union": rd.cps_union, "star98": rd.star98, "movies": rd.movies, "randhie": rd.randhie, "birdstrikes": rd.birdstrikes,
    "credit_g": rd.credit_g, "pima": rd.pima, "ionosphere": rd.ionosphere, "house_votes": rd.house_votes, "racd10_private": rd.racd10_private,
}


# ---------------------------------------------------------------- compiling GB into a dense ReLU net
def compile_gb(gb, Xs, dedupe=True):
    """Weights (float64 numpy) of a dense ReLU net x -> relu(W1 x + b1) -> relu(W2 h1 + b2) -> w3 h2 + b3 equal to gb.decision_function.
    Layer 1: two units per distinct split (feature j, threshold t): a = relu(k(x-t)+RAMP_OFF), b = relu(k(x-t)+RAMP_OFF-1), s = a - b in
    [0,1], s = 1 means x > t (right). k = 1 / (0.1 * gap), gap = distance between the two distinct training values either side of t.
    Layer 2: one unit per leaf: relu(sum over its path of s or (1 - s) - (depth - 1)).
    """
    d = Xs.shape[1]
    sorted_vals = [np.unique(Xs[:, j].astype(np.float32).astype(np.float64)) for j in range(d)]
    split_index = {}
    splits = []  # (j, t, k)
    leaves = []  # (list of (split_idx, go_right), value)
    n_internal = 0
    for est in gb.estimators_[:, 0]:
        tr = est.tree_
        def walk(node, path):
            nonlocal n_internal
            if tr.children_left[node] == -1:
                leaves.append((list(path), tr.value[node, 0, 0] * gb.learning_rate))
                return
            n_internal += 1
            j, t = int(tr.feature[node]), float(tr.threshold[node])
            key = (j, t) if dedupe else (j, t, len(splits))
            if key not in split_index:
                v = sorted_vals[j]
                lo = v[v <= t]
                hi = v[v > t]
                gap = (hi[0] if len(hi) else t + 1.0) - (lo[-1] if len(lo) else t - 1.0)
                split_index[key] = len(splits)
                splits.append((j, t, 1.0 / (0.1 * gap)))
            si = split_index[key]
            walk(tr.children_left[node], path + [(si, False)])
            walk(tr.children_right[node], path + [(si, True)])
        walk(0, [])
    S, L = len(splits), len(leaves)
    W1 = np.zeros((2 * S, d)); b1 = np.zeros(2 * S)
    for i, (j, t, k) in enumerate(splits):
        W1[2 * i, j] = k; b1[2 * i] = -k * t + RAMP_OFF
        W1[2 * i + 1, j] = k; b1[2 * i + 1] = -k * t + RAMP_OFF - 1.0  # tied in Net: b = a-unit bias - 1
    W2 = np.zeros((L, 2 * S)); b2 = np.zeros(L)
    w3 = np.zeros(L)
    for l, (path, val) in enumerate(leaves):
        const = -(len(path) - 1)
        for si, right in path:
            sgn = 1.0 if right else -1.0  # s or 1 - s
            W2[l, 2 * si] += sgn; W2[l, 2 * si + 1] -= sgn
            if not right:
                const += 1.0
        b2[l] = const
        w3[l] = val
    p = gb.init_.class_prior_[1]
    b3 = np.log(p / (1 - p))
    ks = np.array([s[2] for s in splits])
    return dict(W1=W1, b1=b1, W2=W2, b2=b2, w3=w3, b3=b3, n_internal=n_internal, n_splits=S, n_leaves=L, k_min=ks.min(), k_max=ks.max(),
                k_med=float(np.median(ks)))


def np_forward(c, X):
    h1 = np.maximum(X @ c["W1"].T + c["b1"], 0)
    h2 = np.maximum(h1 @ c["W2"].T + c["b2"], 0)
    return h2 @ c["w3"] + c["b3"]


class Net(torch.nn.Module):
    """Dense ReLU net: compiled-tree block, optionally side by side (block-diagonal, logits summed) with an MLP 64-32 block whose head starts at 0.
    Trained in a tied parameterisation that is exactly a plain dense ReLU net (see export()): the two layer-1 units of a split share their
    weight row (biases c and c - 1), and layer 2 sees them only through s = a - b (weights +V on a, -V on b). Untied, Adam moves the a and b
    weights of a leaf independently and a, b themselves reach k * |x - t| (thousands), so one step of 1e-3 wrecks the leaf units."""

    def __init__(self, c, d, mlp=False, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        f = lambda a: torch.nn.Parameter(torch.tensor(np.asarray(a), dtype=torch.float32))
        self.Wk, self.c = f(c["W1"][0::2]), f(c["b1"][0::2])
        self.V, self.b2 = f(c["W2"][:, 0::2]), f(c["b2"])
        self.w3, self.b3 = f(c["w3"]), f(np.array(c["b3"]))
        self.mlp = None
        if mlp:
            self.mlp = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
            torch.nn.init.zeros_(self.mlp[4].weight); torch.nn.init.zeros_(self.mlp[4].bias)

    def forward(self, x):
        pre = x @ self.Wk.T + self.c
        s = torch.relu(pre) - torch.relu(pre - 1.0)
        h2 = torch.relu(s @ self.V.T + self.b2)
        z = h2 @ self.w3 + self.b3
        if self.mlp is not None:
            z = z + self.mlp(x)[:, 0]
        return z

    def export(self):
        """The plain dense layers (tree block only): W1 (2S x d), b1, W2 (L x 2S), b2, w3, b3."""
        with torch.no_grad():
            S = self.Wk.shape[0]
            W1 = torch.zeros(2 * S, self.Wk.shape[1]); W1[0::2] = self.Wk; W1[1::2] = self.Wk
            b1 = torch.zeros(2 * S); b1[0::2] = self.c; b1[1::2] = self.c - 1.0
            W2 = torch.zeros(self.V.shape[0], 2 * S); W2[:, 0::2] = self.V; W2[:, 1::2] = -self.V
            return W1, b1, W2, self.b2.clone(), self.w3.clone(), self.b3.clone()


def plain_forward(net, x):
    W1, b1, W2, b2, w3, b3 = net.export()
    with torch.no_grad():
        z = torch.relu(torch.relu(x @ W1.T + b1) @ W2.T + b2) @ w3 + b3
        if net.mlp is not None:
            z = z + net.mlp(x)[:, 0]
    return z


def train(c, X, y, d, epochs, mlp=False, seed=0, lr=float(os.environ.get("FT_LR", "1e-3")), Xv=None, record=None, batch=64):
    """Adam, class-weighted BCE (balanced), minibatches. If Xv given, returns validation logits after each epoch in `record` (index 0 = before training)."""
    net = Net(c, d, mlp=bool(mlp), seed=seed)
    params = list(net.mlp.parameters()) if mlp == "frozen" else list(net.parameters())  # "frozen": only the MLP block trains, the tree block stays GB
    opt = torch.optim.Adam(params, lr=lr)
    Xt = torch.tensor(X, dtype=torch.float32); yt = torch.tensor(y, dtype=torch.float32)
    pos = y.mean(); wpos, wneg = 0.5 / pos, 0.5 / (1 - pos)
    wt = torch.where(yt > 0, torch.tensor(wpos, dtype=torch.float32), torch.tensor(wneg, dtype=torch.float32))
    Xvt = torch.tensor(Xv, dtype=torch.float32) if Xv is not None else None
    if Xvt is not None:
        with torch.no_grad():
            record.append(net(Xvt).numpy().copy())
    g = torch.Generator().manual_seed(seed)
    n = len(y)
    for ep in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[idx]), yt[idx], weight=wt[idx])
            loss.backward()
            opt.step()
        if Xvt is not None:
            with torch.no_grad():
                record.append(net(Xvt).numpy().copy())
    return net


def predict(net, X):
    with torch.no_grad():
        return net(torch.tensor(X, dtype=torch.float32)).numpy().astype(np.float64)


def best_threshold(y, z):
    """Best-F1 cut on logits z: the midpoint between the cut score and the next lower distinct score."""
    order = np.argsort(-z)
    zs, ys = z[order], y[order]
    tp = np.cumsum(ys); fp = np.cumsum(1 - ys); P = ys.sum()
    f1 = 2 * tp / (tp + fp + P)
    # only cut where the next score differs
    ok = np.r_[zs[1:] < zs[:-1], True]
    f1 = np.where(ok, f1, -1)
    i = int(np.argmax(f1))
    return (zs[i] + zs[i + 1]) / 2 if i + 1 < len(zs) else zs[i] - 1e-6


def wlogloss(y, z):
    pos = y.mean(); w = np.where(y > 0, 0.5 / pos, 0.5 / (1 - pos))
    l = np.logaddexp(0, z) - y * z
    return float((w * l).sum() / w.sum())


def run(table, split, protocol="cv5", combined=True, max_epochs=60):
    names, X, y = ALLOWED[table]()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=split)
    t0 = time.time()
    out = {"table": table, "split": split, "rows": len(y), "test_rows": len(y_test), "features": X.shape[1], "protocol": protocol}
    lr_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000)).fit(X_train, y_train)
    gb_raw = GradientBoostingClassifier(random_state=split).fit(X_train, y_train)
    out["LR"] = f1_score(y_test, lr_model.predict(X_test))
    out["GB"] = f1_score(y_test, gb_raw.predict(X_test))
    sc = StandardScaler().fit(X_train)
    Xs, Xts = sc.transform(X_train), sc.transform(X_test)
    d = X.shape[1]
    gb = GradientBoostingClassifier(random_state=split).fit(Xs, y_train)
    out["GB_std"] = f1_score(y_test, gb.predict(Xts))
    out["GB_std_vs_raw_test_pred_agree"] = float((gb.predict(Xts) == gb_raw.predict(X_test)).mean())
    c = compile_gb(gb, Xs)
    c_nodedupe = compile_gb(gb, Xs, dedupe=False)
    out.update(size_layer1=2 * c["n_splits"], size_layer2=c["n_leaves"], size_layer1_nodedupe=2 * c_nodedupe["n_splits"],
               k_min=c["k_min"], k_med=c["k_med"], k_max=c["k_max"])
    net0 = Net(c, d)
    for nm, XX in (("train", Xs), ("test", Xts)):
        df = gb.decision_function(XX)
        out[f"maxdiff64_{nm}"] = float(np.abs(np_forward(c, XX) - df).max())
        out[f"maxdiff32_{nm}"] = float(np.abs(predict(net0, XX) - df).max())
        out[f"n_diff32_gt1e-3_{nm}"] = int((np.abs(predict(net0, XX) - df) > 1e-3).sum())
    z_comp = predict(net0, Xts)
    out["compiled@0.5"] = f1_score(y_test, (z_comp > 0).astype(int))

    # ---- inner model selection: out-of-fold (5-fold) or one 15% validation split
    if protocol == "cv5":
        folds = list(StratifiedKFold(5, shuffle=True, random_state=split).split(Xs, y_train))
    else:
        tr_i, va_i = train_test_split(np.arange(len(y_train)), test_size=0.15, stratify=y_train, random_state=split)
        folds = [(tr_i, va_i)]
    variants = ["ft"] + (["comb"] if combined else []) + (["combfz"] if os.environ.get("COMBFZ") else [])
    if os.environ.get("VARIANTS"):
        variants = os.environ["VARIANTS"].split(",")
    recs = {v: [] for v in variants}  # per fold: list of per-epoch val logits
    for tr_i, va_i in folds:
        gbf = GradientBoostingClassifier(random_state=split).fit(Xs[tr_i], y_train[tr_i])
        cf = compile_gb(gbf, Xs[tr_i])
        for v in variants:
            rec = []
            train(cf, Xs[tr_i], y_train[tr_i], d, max_epochs, mlp={"ft": False, "comb": True, "combfz": "frozen"}[v], seed=split, Xv=Xs[va_i], record=rec)
            recs[v].append(np.array(rec))  # (epochs+1, n_val)
    yv = np.concatenate([y_train[va] for _, va in folds])
    for v in variants:
        Z = np.concatenate(recs[v], axis=1)  # (epochs+1, n_oof)
        losses = [wlogloss(yv, Z[e]) for e in range(Z.shape[0])]
        if v == variants[0]:  # epoch 0 of any variant is the compiled net (the MLP head starts at 0)
            thr0 = best_threshold(yv, Z[0])  # compiled net (epoch 0) threshold
            out["compiled@tuned"] = f1_score(y_test, (z_comp > thr0).astype(int))
            out["thr_compiled"] = float(thr0)
        e = int(np.argmin(losses))
        thr = best_threshold(yv, Z[e])
        out[f"epochs_{v}"] = e
        out[f"oof_loss_{v}"] = [round(losses[i], 4) for i in (0, 1, 2, 5, 10, 20, 40, len(losses) - 1) if i < len(losses)]
        net = train(c, Xs, y_train, d, e, mlp={"ft": False, "comb": True, "combfz": "frozen"}[v], seed=split)
        z = predict(net, Xts)
        out[f"{v}@tuned"] = f1_score(y_test, (z > thr).astype(int))
        out[f"{v}@0.5"] = f1_score(y_test, (z > 0).astype(int))
        out[f"{v}_plain_export_maxdiff_test"] = float(np.abs(plain_forward(net, torch.tensor(Xts, dtype=torch.float32)).numpy() - z).max())
    out["seconds"] = round(time.time() - t0, 1)
    return out


if __name__ == "__main__":
    table = sys.argv[1]
    splits = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else [0, 1, 2, 3]
    protocol = sys.argv[sys.argv.index("--cv") + 1] if "--cv" in sys.argv else "cv5"
    combined = "--no-combined" not in sys.argv
    max_epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 60
    for s in splits:
        r = run(table, s, protocol, combined, max_epochs)
        print(json.dumps(r), flush=True)
        with open(os.environ.get("RESULTS", "tree-network-probe.jsonl"), "a") as f:
            f.write(json.dumps(r) + "\n")
