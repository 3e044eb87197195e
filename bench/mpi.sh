#!/bin/sh
# bench/mpi.sh — the all-pairs spectral/js matrix of BENCH_MPI_MODELS
# (default 11,000: about a minute on one core here) generated
# fingerprints, as `run` computes it: in one process, then under
# `mpirun -np 2` over two ranks (mp_simmatrix_compute_ranks: tiles,
# gather on rank 0). Prints the seconds of each, the scaling ratio, that
# the checksums agree, and the projection for 100,000 models from the
# measured seconds per pair. Needs an MPI build (configure --with-mpi)
# and mpirun. Env: MP_MATBENCH (set by `make bench`), BENCH_MPI_MODELS.
set -eu
n=${BENCH_MPI_MODELS:-11000}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then
	echo "MPI benchmark: no mpirun (apt-get install openmpi-bin)"; exit 1
fi
echo "MPI benchmark: spectral/js matrix of $n generated fingerprints ($(nproc) CPUs)"
one=$("$MP_MATBENCH" ranks "$n")
echo "$one"
two=$(mpirun -np 2 --oversubscribe --allow-run-as-root "$MP_MATBENCH" ranks "$n")
echo "$two"
s1=$(echo "$one" | sed 's/.* pairs, \([0-9.]*\) s,.*/\1/')
s2=$(echo "$two" | sed 's/.* pairs, \([0-9.]*\) s,.*/\1/')
c1=$(echo "$one" | sed 's/.*checksum \([^,]*\),.*/\1/')
c2=$(echo "$two" | sed 's/.*checksum \([^,]*\),.*/\1/')
[ "$c1" = "$c2" ] && echo "checksums equal: $c1" || echo "CHECKSUMS DIFFER: $c1 / $c2"
awk -v n="$n" -v a="$s1" -v b="$s2" 'BEGIN {
	p = n * (n + 1) / 2; q = 1e5 * (1e5 + 1) / 2
	printf "scaling: 1 rank %.2f s, 2 ranks %.2f s, ratio %.2f (ideal 2)\n", a, b, a / b
	printf "per pair: %.0f ns (1 rank), %.0f ns of wall time (2 ranks)\n", a / p * 1e9, b / p * 1e9
	printf "projected, 100,000 models (%.3g pairs): %.1f h on 1 rank, %.1f h on 2, %.1f min on 64 at the 2-rank efficiency\n",
		q, q * a / p / 3600, q * b / p / 3600, q * a / p / (64 * a / b / 2) / 60
}'
