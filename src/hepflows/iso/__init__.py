"""Learning to isolate muons in data (seed 004): isolation cones, energy flow polynomials and a
particle flow network trained by CWoLa on the dimuon mass windows."""
