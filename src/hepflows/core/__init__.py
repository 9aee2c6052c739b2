"""Shared building blocks: io, preprocessing, training, flows, classifiers, metrics, plots."""
