"""Shared test setup: the active backend in the header, a seeded Keras state, cleared before each test.

Tests never choose the backend: tox sets KERAS_BACKEND per environment.
"""

import pytest

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()} (keras {keras.__version__})"


@pytest.fixture(autouse=True)
def keras_session():
    keras.utils.set_random_seed(1234)
    yield
    # Keras's epoch and step caps are process-wide: never let one test's cap reach the next.
    keras.config.set_max_epochs(None)
    keras.config.set_max_steps_per_epoch(None)
    keras.backend.clear_session()


@pytest.fixture
def few_epochs():
    """Caps every fit at 2 epochs of at most 5 steps (reset after the test)."""
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(5)


@pytest.fixture
def backend():
    return keras.backend.backend()
