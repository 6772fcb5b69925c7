"""The base of kseq's forecasters of one series and of a panel: the head, and saving and
loading a Keras model with a hashed JSON state (`kseq.saving`)."""

from pathlib import Path

from kseq._keras import keras
from kseq.errors import SavedStateError
from kseq.models.builders import head_of
from kseq.saving import MODEL_FILE, read_saved_folder, write_saved_folder


class SavedForecaster:
    """What `Forecaster` and `GlobalForecaster` share: ``model.keras`` and a JSON state in one
    folder, written beside its place and renamed into it, every file's sha256 checked on load
    (``safe_mode=True``, any backend).

    A subclass sets `KIND` (the state's kind), `STATE_FILE`, `STATE_SCHEMA` (``{key: check}``,
    `kseq.saving`) and implements `get_state` (plain JSON values, everything but the weights)
    and `from_state` (the forecaster around a loaded model).
    """

    KIND = None
    STATE_FILE = None
    STATE_SCHEMA = {}

    @property
    def head(self):
        """The model's head layer: it owns the loss and the decoding of the outputs."""
        return head_of(self.model)

    def get_state(self):
        raise NotImplementedError

    @classmethod
    def from_state(cls, model, state, directory):
        """The forecaster around `model` with `state` (read from `directory`, named in
        errors); `SavedStateError` when the state does not parse."""
        raise NotImplementedError

    def save(self, directory, extra=None):
        """Saves ``model.keras`` and the state into `directory`.

        Args:
            directory: target folder (replaced if it exists).
            extra: more JSON values to record under ``"extra"`` (e.g. the recipe config);
                `load` returns them as ``saved_state_["extra"]``.
        """
        state = self.get_state()
        state["extra"] = extra or {}
        return write_saved_folder(
            directory,
            kind=self.KIND,
            state_file=self.STATE_FILE,
            state=state,
            write_files=lambda staging: self.model.save(staging / MODEL_FILE),
        )

    @classmethod
    def load(cls, directory):
        """Loads a saved forecaster; its state is ``saved_state_``.

        Raises:
            SavedStateError: a file was changed after saving, or the state does not match
                its schema or format version, or the model its state.
        """
        directory = Path(directory)
        state = read_saved_folder(
            directory, kind=cls.KIND, state_file=cls.STATE_FILE, schema=cls.STATE_SCHEMA
        )
        import kseq.layers  # noqa: F401  (registers kseq's layers and losses)
        import kseq.losses  # noqa: F401

        # Not compiled: a compile config recorded on another backend (e.g. JAX's resolved
        # jit_compile=True) would turn on torch.compile here. Compile again to keep training.
        model = keras.saving.load_model(directory / MODEL_FILE, safe_mode=True, compile=False)
        forecaster = cls.from_state(model, state, directory)
        if forecaster.horizon != state["horizon"]:
            raise SavedStateError(
                f"{directory / MODEL_FILE} forecasts {forecaster.horizon} steps; "
                f"{cls.STATE_FILE} says {state['horizon']}."
            )
        forecaster.saved_state_ = state
        return forecaster
