"""Background extrapolation for weakly supervised anomaly detection (seed 003)."""
