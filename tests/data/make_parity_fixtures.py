"""Writes the cross-backend parity fixtures in tests/data/parity/.

Run once on one backend (the committed files were made on JAX):

    KERAS_BACKEND=jax python tests/data/make_parity_fixtures.py

For every cell type and head it saves a small seeded model (``NAME.keras``) and its inputs
and outputs (``NAME.npz``); then a trained AirPassengers forecaster (``forecaster/``) with
its forecasts (``forecaster.npz``). tests/test_parity.py loads them on each backend and
checks that the outputs are reproduced within 1e-5.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kseq._keras import keras  # noqa: E402
from kseq.data import load_airpassengers  # noqa: E402
from kseq.forecaster import Forecaster
from kseq.models import build_forecaster, build_seq2seq  # noqa: E402
from kseq.training_config import TrainingConfig  # noqa: E402
from kseq.transforms import Difference, LogTransform, MinMaxScale, TransformPipeline  # noqa: E402

OUT = Path(__file__).resolve().parent / "parity"


def models():
    yield (
        "lstm_point",
        build_forecaster(
            10,
            2,
            3,
            2,
            cell="lstm",
            units=[8, 6],
            forget_bias=0.5,
            dense_units=[5],
            dropout=0.2,
            seed=1,
        ),
    )
    yield "gru_point", build_forecaster(10, 2, 1, 1, cell="gru", units=[8, 6], dropout=0.2, seed=1)
    yield "simple_rnn_point", build_forecaster(10, 2, 2, 1, cell="simple_rnn", units=[8, 6])
    yield (
        "lstm_quantile",
        build_forecaster(10, 2, 2, 1, units=[8], head="quantile", quantiles=[0.1, 0.5, 0.9]),
    )
    yield "lstm_mixture", build_forecaster(10, 2, 2, 1, units=[8], head="mixture", num_components=3)
    yield (
        "simple_rnn_sequence",
        build_seq2seq(2, 1, cell="simple_rnn", units=[10], dense_units=[20]),
    )


def main():
    OUT.mkdir(exist_ok=True)
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    inputs = rng.normal(size=(5, 10, 2)).astype("float32")
    for name, model in models():
        outputs = model.predict(inputs, verbose=0)
        model.save(OUT / f"{name}.keras")
        np.savez(OUT / f"{name}.npz", inputs=inputs, outputs=outputs)
        print(name, outputs.shape)

    series = load_airpassengers().to_numpy()
    transforms = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    forecaster = Forecaster(build_forecaster(12, units=[16]), lookback=12, transforms=transforms)
    forecaster.fit(
        series[:120], training=TrainingConfig(epochs=20, batch_size=16, seed=0, verbose=0)
    )
    forecaster.save(OUT / "forecaster")
    np.savez(
        OUT / "forecaster.npz",
        multi_step=forecaster.predict(series[:120], 24),
        one_step=forecaster.predict_one_step(series, 120),
    )
    print("forecaster saved on", keras.backend.backend())


if __name__ == "__main__":
    main()
