"""The same model gives the same numbers on every backend.

The fixtures in tests/data/parity/ were saved on one backend by
tests/data/make_parity_fixtures.py; every backend env must reproduce them.
"""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import kseq.layers  # noqa: F401  (registers kseq's layers)
import kseq.losses  # noqa: F401
from kseq.data import load_airpassengers
from kseq.forecaster import Forecaster

PARITY = Path(__file__).parent / "data" / "parity"
NAMES = sorted(p.stem for p in PARITY.glob("*.keras"))


def test_fixtures_are_present():
    assert len(NAMES) == 6


@pytest.mark.parametrize("name", NAMES)
def test_saved_model_reproduces_recorded_outputs(name):
    model = keras.saving.load_model(PARITY / f"{name}.keras", safe_mode=True)
    recorded = np.load(PARITY / f"{name}.npz")
    outputs = model.predict(recorded["inputs"], verbose=0)
    np.testing.assert_allclose(outputs, recorded["outputs"], atol=1e-5, rtol=0)


def test_forecaster_saved_on_another_backend_gives_the_recorded_forecasts():
    forecaster = Forecaster.load(PARITY / "forecaster")
    state = json.loads((PARITY / "forecaster" / "forecaster.json").read_text())
    assert state["state"]["backend"] in ("tensorflow", "torch", "jax")
    series = load_airpassengers().to_numpy()
    recorded = np.load(PARITY / "forecaster.npz")
    # Original units (hundreds of passengers): 1e-5 relative is float32 agreement.
    np.testing.assert_allclose(
        forecaster.predict(series[:120], 24), recorded["multi_step"], rtol=1e-5
    )
    np.testing.assert_allclose(
        forecaster.predict_one_step(series, 120), recorded["one_step"], rtol=1e-5
    )
