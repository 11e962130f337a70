"""The schema of a model directory's `model.json`, checked whole before a model is used.

A model file that loads but holds a threshold of NaN, a feature reference of the wrong length or a band
outside [0, 1] would give wrong scores without an error (a NaN threshold labels every text clean). So every
value the scorer reads is validated here, and a bad one is refused with one line naming its key.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# A probability as stored in a model file: finite, in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReferenceArrays(_Strict):
    clean_mean: list[FiniteFloat]
    clean_std: list[Annotated[float, Field(gt=0.0, allow_inf_nan=False)]]
    direction: list[Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]]


class BandValues(_Strict):
    low: Probability
    high: Probability

    @model_validator(mode="after")
    def _ordered(self) -> BandValues:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


class CalibrationScores(_Strict):
    clean_scores: list[Probability] | None = None
    cascade_clean_scores: list[Probability] | None = None


class ModelMetadata(_Strict):
    """What `TrainedModel.load` reads from model.json (the config is validated by its own schema)."""

    feature_names: list[str] = Field(min_length=1)
    threshold: Probability
    config: dict
    reference: ReferenceArrays
    metrics: dict = {}
    calibration: CalibrationScores | None = None
    cascade: BandValues | None = None
    feature_definitions: list[str] | None = None

    @field_validator("feature_names")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"repeated feature names: {', '.join(repeated)}")
        return names

    @model_validator(mode="after")
    def _one_reference_value_per_feature(self) -> ModelMetadata:
        expected = len(self.feature_names)
        for key in ("clean_mean", "clean_std", "direction"):
            found = len(getattr(self.reference, key))
            if found != expected:
                raise ValueError(f"reference.{key} has {found} values for {expected} features")
        return self


def parse_metadata(data: object) -> ModelMetadata:
    """The validated metadata; ValueError with one line naming the first bad key."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return ModelMetadata.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        value = first.get("input")
        shown = f" (found {value!r:.60})" if isinstance(value, (int, float, str)) and not isinstance(value, bool) else ""
        more = f"; {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
        raise ValueError(f"{key}: {first['msg']}{shown}{more}") from None
