/* mpi_pairs.h — the few MPI calls of `mpirun -np R modelprint run`
 * (experiment_mpi.c): start and stop, agreeing on failure, summing
 * counters and gathering byte buffers on rank 0. Every MPI call of
 * modelprint is in mpi_pairs.c; built without MPI (configure
 * --without-mpi) the functions are stubs for one process. All but
 * mp_mpi_built, mp_mpi_library and mp_mpi_launched are collective: every
 * rank calls them in the same order. */
#ifndef MP_MPI_PAIRS_H
#define MP_MPI_PAIRS_H

#include "mp.h"

/* Whether this modelprint was built with MPI. */
bool mp_mpi_built(void);
/* "Open MPI 4.1.4" (the headers built against), or "no". */
const char *mp_mpi_library(void);
/* Whether the process was started by mpirun as one of several ranks
 * (OMPI_COMM_WORLD_SIZE > 1); nothing is initialised either way. */
bool mp_mpi_launched(void);

/* MPI_Init (once), this process's rank and the number of ranks. Built
 * without MPI: MP_EINVAL saying so. */
mp_status mp_mpi_start(int *rank, int *size, struct mp_error *err);
/* MPI_Finalize when mp_mpi_start succeeded; else nothing. */
void mp_mpi_stop(void);

/* Collective: st of the lowest rank that failed, with its message in
 * *err on every rank (MP_OK when none failed). */
mp_status mp_mpi_agree(mp_status st, struct mp_error *err);

/* Collective: v[0..n) summed over the ranks into v on rank 0 (others'
 * v unchanged). */
mp_status mp_mpi_sum(uint64_t *v, size_t n, struct mp_error *err);

/* Collective: each rank's buf[0..len) to rank 0 (any length: sent in
 * pieces of at most 1 GiB), where *all (malloc'd, caller frees) holds
 * them one after the other in rank order and lens[r] (an array of size
 * entries the caller gives) rank r's length; on other ranks *all is NULL. */
mp_status mp_mpi_gather(const void *buf, uint64_t len, char **all,
			uint64_t *lens, struct mp_error *err);

#endif
