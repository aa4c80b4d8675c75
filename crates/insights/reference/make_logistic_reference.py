"""Reference for Lectern's purchase-propensity model: scikit-learn's logistic regression.

Writes `logistic_reference.json`: a fixed data set (600 rows, 10 standardised features, labels
drawn from a known logistic model, seed 20261128) and scikit-learn's coefficients and intercept
for it. `crates/insights/tests/propensity.rs` fits the same data with smartcore and requires the
coefficients to agree within 1e-4.

Run (from the repository root), with the versions the committed file was made with:
    python3 -m venv /tmp/skvenv
    /tmp/skvenv/bin/pip install scikit-learn==1.7.2 numpy==2.4.6
    /tmp/skvenv/bin/python crates/insights/reference/make_logistic_reference.py

scikit-learn minimises  C * sum(log loss) + ||w||^2 / 2  (the intercept is not penalised);
smartcore minimises       sum(log loss) + alpha * ||w||^2 / 2; so alpha = 1 / C. C = 1 here.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20261128)
n, p = 600, 10
x = np.round(rng.normal(size=(n, p)), 12)
true_w = np.array([0.8, -0.5, 0.0, 0.3, 1.2, -0.9, 0.2, 0.0, 0.5, -0.3])
logits = x @ true_w - 1.5
y = rng.random(n) < 1.0 / (1.0 + np.exp(-logits))

model = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000, solver="lbfgs")
model.fit(x, y)

out = {
    "sklearn_version": sklearn.__version__,
    "numpy_version": np.__version__,
    "C": 1.0,
    "x": [[round(float(v), 12) for v in row] for row in x],
    "y": [bool(v) for v in y],
    "coefficients": [float(v) for v in model.coef_[0]],
    "intercept": float(model.intercept_[0]),
}
here = pathlib.Path(__file__).parent
(here / "logistic_reference.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(y)} rows, {int(y.sum())} positives; intercept {out['intercept']:.6f}")
