"""Step ad_read_signal (``source: files``): a signal's events (its own file, or the label-1
events of the background file) cut into the SR test, supervised and injection pools, in the
order :mod:`hepflows.ad.file_pools` gives."""

from hepflows.ad.file_pools import read_step
from hepflows.core.cli import run_step

parser, main = read_step("signal", __doc__)

if __name__ == "__main__":
    run_step(parser(), main)
