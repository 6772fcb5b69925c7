"""Choosing the Keras backend before Keras is imported.

Keras fixes its backend when it is first imported, from ``KERAS_BACKEND`` or
``$KERAS_HOME/keras.json`` (``~/.keras/keras.json``), falling back to TensorFlow. kseq applies the
choice in this order:

1. an explicit name (`select_backend("jax")`, the ``--backend`` flag of every command);
2. ``KERAS_BACKEND``;
3. the ``backend`` named in ``keras.json``, when that backend is installed;
4. the first installed of JAX, TensorFlow and PyTorch, with a log message saying which.

``KSEQ_CPU_DEVICES=N`` splits the host CPU into N devices (JAX through ``XLA_FLAGS``, set here
before JAX is imported; TensorFlow through logical devices), so that data-parallel training
runs on a machine without accelerators, as the tests do.

A backend that is named (1 or 2) but not installed raises `kseq.errors.BackendError` with one line
naming the pip extra to install.
"""

import importlib.util
import json
import logging
import os
import sys

from kseq.errors import BackendError

BACKENDS = ("tensorflow", "torch", "jax")
# Preference when nothing names a backend: fastest on CPU first (see docs/speed.md).
_AUTO_ORDER = ("jax", "tensorflow", "torch")
_MODULES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}

logger = logging.getLogger("kseq")


def installed_backends():
    """Returns the names of the Keras backends importable in this environment."""
    return tuple(name for name in BACKENDS if importlib.util.find_spec(_MODULES[name]) is not None)


# What Keras writes to keras.json on its first import when the file is missing: a default
# nobody chose, so the backend it names is no user's choice.
_KERAS_WRITTEN = {
    "floatx": "float32",
    "epsilon": 1e-07,
    "backend": "tensorflow",
    "image_data_format": "channels_last",
}


def _keras_json_backend():
    """The backend a user's keras.json names (`None` for none, or Keras's own default file),
    and the file's path."""
    keras_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(keras_dir, "keras.json")
    try:
        with open(path) as f:
            config = json.load(f)
        if config == _KERAS_WRITTEN:
            return None, path
        return config.get("backend"), path
    except (OSError, ValueError, AttributeError):
        return None, path


def _check_name(name, source):
    if name not in BACKENDS:
        raise BackendError(
            f"Unknown Keras backend {name!r} (from {source}); choose one of {', '.join(BACKENDS)}."
        )
    if importlib.util.find_spec(_MODULES[name]) is None:
        raise BackendError(
            f"Keras backend {name!r} (from {source}) is not installed: "
            f"run `pip install 'kseq[{name}]'` or choose another backend."
        )


def _split_host_cpu(backend):
    count = os.environ.get("KSEQ_CPU_DEVICES", "")
    if not count:
        return
    if not count.isdigit() or int(count) < 1:
        raise BackendError(f"KSEQ_CPU_DEVICES must be a positive integer; received {count!r}.")
    flag = "--xla_force_host_platform_device_count"
    flags = os.environ.get("XLA_FLAGS", "")
    if backend == "jax" and "jax" not in sys.modules and flag not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}={int(count)}".strip()


def select_backend(name=None):
    """Chooses the Keras backend; must run before Keras is imported.

    Args:
        name: `"tensorflow"`, `"torch"`, `"jax"` or `None` to follow ``KERAS_BACKEND``,
            ``keras.json`` and then the installed backends.

    Returns:
        The name of the backend Keras will use.

    Raises:
        BackendError: the backend is unknown or not installed, or Keras was already imported
            with a different backend.
    """
    if "keras" in sys.modules:
        import keras

        active = keras.backend.backend()
        if name is not None and name != active:
            raise BackendError(
                f"Keras is already imported with backend {active!r}; {name!r} can only be chosen "
                "before anything imports Keras (pass --backend or set KERAS_BACKEND at startup)."
            )
        return active
    if name is not None:
        _check_name(name, "the backend argument")
        os.environ["KERAS_BACKEND"] = name
        _split_host_cpu(name)
        return name
    env = os.environ.get("KERAS_BACKEND")
    if env:
        _check_name(env, "KERAS_BACKEND")
        _split_host_cpu(env)
        return env
    installed = installed_backends()
    if not installed:
        raise BackendError(
            "No Keras backend is installed: run `pip install 'kseq[jax]'` "
            "(or kseq[tensorflow], kseq[torch])."
        )
    configured, path = _keras_json_backend()
    if configured in installed:
        _split_host_cpu(configured)
        return configured
    chosen = next(b for b in _AUTO_ORDER if b in installed)
    if configured is not None:
        logger.warning(
            "%s names backend %r, which is not installed; kseq uses %r instead.",
            path,
            configured,
            chosen,
        )
    elif len(installed) > 1:
        logger.warning("No KERAS_BACKEND is set; kseq uses the installed backend %r.", chosen)
    else:
        logger.info("No KERAS_BACKEND is set; kseq uses the installed backend %r.", chosen)
    os.environ["KERAS_BACKEND"] = chosen
    _split_host_cpu(chosen)
    return chosen


def ensure_backend():
    """Chooses the backend once, if Keras is not imported yet; returns the active backend name."""
    return select_backend(None)
