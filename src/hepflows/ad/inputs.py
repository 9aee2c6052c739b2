"""Model inputs of an ``ad`` dataset: which columns, and the one preprocessing fitted on them.

The preprocessing is fitted once (on the static MC and ideal background, all regions) and saved
as JSON; every classifier and flow of the analysis uses the same one. It is robust outside the
fitted range (signal in the far tails, SR contexts beyond the CR), so a flow never sees NaN/inf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hepflows.core.io import EventTable, read_json, write_json
from hepflows.core.preprocessing import Preprocessor


@dataclass
class InputScaler:
    context_columns: list[str]
    feature_columns: list[str]
    context: Preprocessor
    features: Preprocessor

    @classmethod
    def fit(
        cls,
        table: EventTable,
        context_columns: Sequence[str],
        feature_columns: Sequence[str],
        *,
        context_steps: Sequence[str],
        feature_steps: Sequence[str],
    ) -> InputScaler:
        return cls(
            list(context_columns),
            list(feature_columns),
            Preprocessor(context_steps).fit(table.cols(context_columns)),
            Preprocessor(feature_steps).fit(table.cols(feature_columns)),
        )

    def ctx(self, table: EventTable) -> np.ndarray:
        return self.context.transform(table.cols(self.context_columns)).astype(np.float32)

    def feat(self, table: EventTable) -> np.ndarray:
        return self.features.transform(table.cols(self.feature_columns)).astype(np.float32)

    def both(self, table: EventTable) -> np.ndarray:
        """Context and features side by side, for classifiers that see the whole event."""
        return np.hstack([self.ctx(table), self.feat(table)])

    def feat_inverse(self, y: np.ndarray) -> np.ndarray:
        return self.features.inverse(np.asarray(y, dtype=np.float64))

    def save(self, path: str | Path) -> None:
        write_json(
            path,
            {
                "context_columns": self.context_columns,
                "feature_columns": self.feature_columns,
                "context": self.context.to_dict(),
                "features": self.features.to_dict(),
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> InputScaler:
        d = read_json(path)
        return cls(
            d["context_columns"],
            d["feature_columns"],
            Preprocessor.from_dict(d["context"]),
            Preprocessor.from_dict(d["features"]),
        )
