"""Step ad_read_mc (``source: files``): the simulated background file (e.g. the Herwig sample;
R&D layout: its label-0 events) as the MC pool."""

from hepflows.ad.file_pools import read_step
from hepflows.core.cli import run_step

parser, main = read_step("mc", __doc__)

if __name__ == "__main__":
    run_step(parser(), main)
