import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from introdl.nn.baselines import fit_softmax_regression, linear_baseline_accuracy


def _digits(n=600):
    X, y = load_digits(return_X_y=True)
    return torch.from_numpy(X[:n]).float(), torch.from_numpy(y[:n])


def test_softmax_regression_matches_scikit_learn():
    x, y = _digits()
    ours = fit_softmax_regression(x, y, 10, C=0.5, max_iter=500, standardize=True,
                                  dtype=torch.float64)
    z = StandardScaler().fit_transform(x.double().numpy())
    ref = LogisticRegression(C=0.5, max_iter=5000, tol=1e-10).fit(z, y.numpy())
    with torch.no_grad():
        p_ours = torch.softmax(ours(x).double(), 1).numpy()
    p_ref = ref.predict_proba(z)
    assert np.abs(p_ours - p_ref).max() < 2e-3


def test_linear_baseline_accuracy_is_held_out_accuracy():
    x, y = _digits(1200)
    acc = linear_baseline_accuracy(x[:900], y[:900], x[900:], y[900:], 10)
    assert 0.85 < acc < 1.0  # digits are nearly linearly separable, but not perfectly
    chance = linear_baseline_accuracy(x[:900], y[torch.randperm(900)], x[900:], y[900:], 10)
    assert chance < 0.3  # shuffled labels: nothing to learn
