"""Stage 3, transform: a ``[transforms]`` section → an unfitted `TransformPipeline`; and the
leaks a recipe's fitting policy lets through."""

from kseq.transforms import Difference, LogTransform, MinMaxScale, TransformPipeline


def build_transforms(section):
    """Log, then each difference lag, then MinMax scaling, as the section says."""
    steps = []
    if section.log:
        steps.append(LogTransform())
    for lag in section.difference:
        steps.append(Difference(lag))
    if section.feature_range is not None:
        steps.append(MinMaxScale(section.feature_range))
    return TransformPipeline(steps)


def find_leaks(recipe):
    """What in the recipe lets the test period reach a fitted statistic (plain sentences)."""
    leaks = []
    if recipe.transforms.fit_on == "all":
        leaks.append("transforms (scaler) fitted on the whole series, test period included")
    if recipe.training.train_on == "all":
        leaks.append("model trained on windows of the whole series, test period included")
    return leaks
