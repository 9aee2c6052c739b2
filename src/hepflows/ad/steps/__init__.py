"""One module per rule of the ``ad`` analysis: rule ``ad_<verb>`` runs
``python -m hepflows.ad.steps.<verb>``. A step parses its arguments, reads its inputs, calls the
library (:mod:`hepflows.ad`, :mod:`hepflows.core`) and writes its outputs; nothing else."""
