"""Step ad_read_background (``source: files``): the background file (LHC Olympics R&D: its
label-0 events) cut into the data, ideal, reference and SR test-background pools, in the order
:mod:`hepflows.ad.file_pools` gives."""

from hepflows.ad.file_pools import read_step
from hepflows.core.cli import run_step

parser, main = read_step("background", __doc__)

if __name__ == "__main__":
    run_step(parser(), main)
