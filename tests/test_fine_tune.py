"""Fine-tuning on the series alone after training with related series ([training]
fine_tune_epochs): what is kept is what validation scores lower, and it resumes."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

import kseq.pipeline.fit as fit_stage
from kseq.config import load_recipe, recipe_path
from kseq.data import load_airpassengers
from kseq.data.windows import make_windows
from kseq.errors import ConfigError
from kseq.forecaster import Forecaster
from kseq.pipeline.run import run_recipe

TRAIN_STOP, VALIDATION_STOP = 108, 120  # 1949-1957 train, 1958 validation (the recipe's split)


@pytest.fixture
def related_csv(tmp_path):
    passengers = load_airpassengers().to_numpy()
    rng = np.random.default_rng(1)
    dates = pd.date_range("1949-01-01", periods=len(passengers), freq="MS")
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": name, "ds": dates, "y": values})
            for name, values in {
                "noisy": passengers * np.exp(rng.normal(0, 0.05, len(passengers))),
                "flat": 100 + 10 * np.sin(np.arange(len(passengers)) / 3),
            }.items()
        ]
    )
    path = tmp_path / "related.csv"
    frame.to_csv(path, index=False)
    return path


def make_recipe(related, **training):
    overrides = [
        ("data", "related", str(related)),
        ("model", "units", [4]),
        ("training", "ensemble", 1),
        ("training", "epochs", 2),
        ("training", "batch_size", 64),
        ("training", "checkpoint_every", 1),
        ("training", "checkpoint_seconds", 0.0),
        ("evaluation", "baselines", ["naive"]),
        ("evaluation", "intervals", []),
    ]
    overrides += [("training", key, value) for key, value in training.items()]
    return load_recipe(recipe_path("airpassengers"), overrides)


def validation_mse(run_dir):
    """The saved net's mean squared error on the validation windows, in its scaled units:
    the loss early stopping watched, computed here from the model's outputs."""
    forecaster = Forecaster.load(run_dir / "forecaster")
    values = load_airpassengers().to_numpy()[:VALIDATION_STOP, None]
    start = TRAIN_STOP - forecaster.context_length
    z = forecaster.transforms.transform(values[start:], position=start)
    x, y = make_windows(z, z[:, :1], lookback=forecaster.lookback, horizon=1)
    outputs = keras.ops.convert_to_numpy(forecaster.model(x, training=False))
    return float(np.mean((outputs.reshape(y.shape) - y) ** 2)), forecaster.model.get_weights()


def test_fine_tuning_is_kept_only_where_validation_scores_it_lower(tmp_path, related_csv):
    joint = run_recipe(make_recipe(related_csv), run_dir=tmp_path / "joint", verbose=0)
    assert joint.fine_tune is None
    joint_mse, joint_weights = validation_mse(tmp_path / "joint")

    # A net trained for two epochs improves on its own series: the fine-tuning is kept.
    tuned = run_recipe(
        make_recipe(related_csv, fine_tune_epochs=8, fine_tune_learning_rate=3e-3),
        run_dir=tmp_path / "tuned",
        verbose=0,
    )
    (record,) = tuned.fine_tune
    tuned_mse, _ = validation_mse(tmp_path / "tuned")
    assert record["val_loss_before"] == pytest.approx(joint_mse, rel=1e-4)
    assert record["kept"] is True
    assert tuned_mse < joint_mse
    assert record["val_loss_after"] == pytest.approx(tuned_mse, rel=1e-4)
    assert 1 <= record["best_epoch"] <= record["epochs"] <= 8
    text = (tmp_path / "tuned" / "run_card.md").read_text()
    assert "fine-tuned on the series alone: 1 of 1 member(s) kept it" in text
    saved = json.loads((tmp_path / "tuned" / "run_card.json").read_text())
    assert saved["fine_tune"][0]["kept"] is True

    # Steps a hundred times too large throw the weights far off: the member gets its weights
    # from before back, and the run is the run without fine-tuning.
    frozen = run_recipe(
        make_recipe(related_csv, fine_tune_epochs=3, fine_tune_learning_rate=10.0),
        run_dir=tmp_path / "frozen",
        verbose=0,
    )
    assert frozen.fine_tune[0]["kept"] is False
    assert not frozen.fine_tune[0]["val_loss_after"] < joint_mse  # NaN or higher
    _, frozen_weights = validation_mse(tmp_path / "frozen")
    for got, want in zip(frozen_weights, joint_weights, strict=True):
        np.testing.assert_array_equal(got, want)
    assert frozen.metrics == joint.metrics


class _Interrupt(Exception):
    pass


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise _Interrupt


def test_an_interrupted_fine_tuning_resumes_to_the_uninterrupted_result(
    tmp_path, related_csv, monkeypatch
):
    recipe = make_recipe(related_csv, fine_tune_epochs=6, fine_tune_learning_rate=3e-3)
    reference = run_recipe(recipe, run_dir=tmp_path / "reference", verbose=0)
    _, reference_weights = validation_mse(tmp_path / "reference")

    train_member = fit_stage.fit_member

    def interrupted(model, fit, training, *, directory, callbacks=(), **kwargs):
        # Stopped after the fine-tuning's third epoch (its checkpoint written first).
        if directory.name == "member_0_tune":
            callbacks = [*callbacks, _StopAfter(3)]
        return train_member(
            model, fit, training, directory=directory, callbacks=callbacks, **kwargs
        )

    monkeypatch.setattr(fit_stage, "fit_member", interrupted)
    with pytest.raises(_Interrupt):
        run_recipe(recipe, run_dir=tmp_path / "resumed", verbose=0)
    monkeypatch.setattr(fit_stage, "fit_member", train_member)
    assert (tmp_path / "resumed" / "checkpoints" / "member_0_tune").is_dir()
    resumed = run_recipe(recipe, run_dir=tmp_path / "resumed", resume=True, verbose=0)
    assert resumed.fine_tune == reference.fine_tune
    _, weights = validation_mse(tmp_path / "resumed")
    for got, want in zip(weights, reference_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ([("training", "fine_tune_epochs", 5)], r"without \[data\] related it would only"),
        (
            [("training", "fine_tune_learning_rate", 1e-4)],
            r"fine_tune_learning_rate configures the fine-tuning that fine_tune_epochs",
        ),
        (
            [
                ("data", "related", "us_employment"),
                ("training", "fine_tune_epochs", 5),
                ("training", "refit", True),
            ],
            r"fine_tune_epochs = 5 and refit = true cannot be combined",
        ),
        (
            [
                ("data", "related", "us_employment"),
                ("training", "fine_tune_epochs", 5),
                ("split", "validation", 0),
            ],
            r"it needs \[split\] validation > 0 and train_on = 'train'",
        ),
    ],
)
def test_fine_tuning_that_cannot_work_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(recipe_path("airpassengers-single"), overrides)


def test_a_panel_recipe_refuses_fine_tuning():
    with pytest.raises(ConfigError, match=r"a panel's global model has no single series"):
        load_recipe(recipe_path("us_employment"), [("training", "fine_tune_epochs", 5)])
