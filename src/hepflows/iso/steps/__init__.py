"""One module per rule of the ``iso`` analysis: rule ``iso_<verb>`` runs
``python -m hepflows.iso.steps.<verb>``. A step parses its arguments, reads its inputs, calls the
library (:mod:`hepflows.iso`, :mod:`hepflows.core`) and writes its outputs; nothing else."""
