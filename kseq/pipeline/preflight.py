"""The Keras-free stages of a run (load, split, the transforms' checks), run by the CLI before
the backend is imported: bad data is reported in a second, not after the backend's import
(several seconds for TensorFlow) or, worse, after training."""

import tempfile
import warnings

from kseq.config import AR1Recipe
from kseq.errors import KseqWarning
from kseq.pipeline.defaults import infer_defaults
from kseq.pipeline.load import is_panel_of_one, load_run_panel, load_series, make_panel_of_one
from kseq.pipeline.related import load_related
from kseq.pipeline.split import check_feature_steps, split_run
from kseq.pipeline.transform import check_transforms, check_window_room


def check_inputs(recipe):
    """Raises the error the run would raise on `recipe`'s data; returns nothing.

    The run loads the data again (cheap next to training) and reports its warnings then;
    here they are silenced so that each is shown once.
    """
    if isinstance(recipe, AR1Recipe):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KseqWarning)
        if is_panel_of_one(recipe):
            with tempfile.TemporaryDirectory(prefix="kseq-") as folder:
                load_run_panel(make_panel_of_one(recipe, folder))
            return
        if recipe.data.is_panel:
            load_run_panel(recipe)
            return
        series = load_series(recipe.data, recipe.recipe.seed)
        recipe, _ = infer_defaults(recipe, series)
        load_related(recipe.data, series)
        data = split_run(series, recipe.split)
        check_transforms(recipe.transforms, data.values, data.series.columns)
        check_window_room(recipe, data)
        check_feature_steps(recipe, data)
