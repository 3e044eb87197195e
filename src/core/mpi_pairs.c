/* mpi_pairs.c — every MPI call of modelprint, and the stubs without MPI. */
#include "mpi_pairs.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mp_mpi_launched(void)
{
	const char *s = getenv("OMPI_COMM_WORLD_SIZE");
	return s && atol(s) > 1;
}

#ifdef MP_HAVE_MPI
#include <mpi.h>

static bool started;

bool mp_mpi_built(void)
{
	return true;
}

const char *mp_mpi_library(void)
{
#define MP_STR2(x) #x
#define MP_STR(x) MP_STR2(x)
#ifdef OMPI_MAJOR_VERSION
	return "Open MPI " MP_STR(OMPI_MAJOR_VERSION) "." MP_STR(
	    OMPI_MINOR_VERSION) "." MP_STR(OMPI_RELEASE_VERSION);
#else
	return "MPI " MP_STR(MPI_VERSION) "." MP_STR(MPI_SUBVERSION);
#endif
}

static mp_status mpi_fail(int rc, const char *what, struct mp_error *err)
{
	char msg[MPI_MAX_ERROR_STRING] = "";
	int len = 0;
	MPI_Error_string(rc, msg, &len);
	return mp_error_set(err, MP_EIO, "MPI: %s failed: %s", what, msg);
}

mp_status mp_mpi_start(int *rank, int *size, struct mp_error *err)
{
	int rc = MPI_SUCCESS;
	if (!started) {
		rc = MPI_Init(NULL, NULL);
		if (rc != MPI_SUCCESS)
			return mpi_fail(rc, "MPI_Init", err);
		started = true;
		/* errors come back as codes (a dead peer still aborts the
		 * job through mpirun) */
		MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	}
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, size);
	return MP_OK;
}

void mp_mpi_stop(void)
{
	if (started)
		MPI_Finalize();
	started = false;
}

mp_status mp_mpi_agree(mp_status st, struct mp_error *err)
{
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int mine = st == MP_OK ? size : rank, first;
	int rc =
	    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS)
		return mpi_fail(rc, "MPI_Allreduce", err);
	if (first == size)
		return MP_OK;
	struct {
		int st;
		char msg[MP_ERRMSG_MAX];
	} m = {(int)st, ""};
	if (rank == first && err)
		snprintf(m.msg, sizeof m.msg, "%s", err->msg);
	rc = MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS)
		return mpi_fail(rc, "MPI_Bcast", err);
	m.msg[sizeof m.msg - 1] = '\0';
	return mp_error_set(err, (mp_status)m.st, "%s", m.msg);
}

mp_status mp_mpi_sum(uint64_t *v, size_t n, struct mp_error *err)
{
	int rank;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	uint64_t *out = malloc((n ? n : 1) * sizeof *out);
	if (!out)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	int rc = MPI_Reduce(v, out, (int)n, MPI_UINT64_T, MPI_SUM, 0,
			    MPI_COMM_WORLD);
	if (rc == MPI_SUCCESS && rank == 0)
		memcpy(v, out, n * sizeof *v);
	free(out);
	return rc == MPI_SUCCESS ? MP_OK : mpi_fail(rc, "MPI_Reduce", err);
}

#define PIECE (1ULL << 30)

mp_status mp_mpi_gather(const void *buf, uint64_t len, char **all,
			uint64_t *lens, struct mp_error *err)
{
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	*all = NULL;
	int rc = MPI_Gather(&len, 1, MPI_UINT64_T, lens, 1, MPI_UINT64_T, 0,
			    MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS)
		return mpi_fail(rc, "MPI_Gather", err);
	/* the number of pieces: rank 0 knows every length */
	uint64_t total = 0, most = 0;
	int *cnt = NULL, *dsp = NULL;
	uint64_t *at = NULL;
	if (rank == 0) {
		for (int r = 0; r < size; r++) {
			total += lens[r];
			most = lens[r] > most ? lens[r] : most;
		}
		cnt = calloc((size_t)size, sizeof *cnt);
		dsp = calloc((size_t)size, sizeof *dsp);
		at = calloc((size_t)size, sizeof *at);
		*all = malloc(total ? total : 1);
		if (!cnt || !dsp || !at || !*all)
			most = UINT64_MAX; /* tells the others to stop */
	}
	rc = MPI_Bcast(&most, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mp_status st =
	    rc == MPI_SUCCESS ? MP_OK : mpi_fail(rc, "MPI_Bcast", err);
	if (st == MP_OK && most == UINT64_MAX)
		st = mp_error_set(err, MP_ENOMEM,
				  "out of memory for the gathered results");
	/* round k: each rank's bytes [k*PIECE, (k+1)*PIECE) into a piece
	 * buffer on rank 0 (MPI counts are int), copied to their place */
	uint64_t rounds = st == MP_OK ? (most + PIECE - 1) / PIECE : 0;
	char *piece = NULL;
	if (rank == 0 && rounds) {
		piece = malloc(size * (most < PIECE ? most : PIECE));
		if (!piece)
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	uint64_t base = 0;
	for (int r = 0; rank == 0 && at && r < size; r++) {
		at[r] = base;
		base += lens[r];
	}
	for (uint64_t k = 0; st == MP_OK && k < rounds; k++) {
		uint64_t off = k * PIECE;
		int send = len > off
			       ? (int)(len - off < PIECE ? len - off : PIECE)
			       : 0;
		if (rank == 0) {
			int d = 0;
			for (int r = 0; r < size; r++) {
				uint64_t o = lens[r] > off ? lens[r] - off : 0;
				cnt[r] = (int)(o < PIECE ? o : PIECE);
				dsp[r] = d;
				d += cnt[r];
			}
		}
		rc = MPI_Gatherv((const char *)buf + (send ? off : 0), send,
				 MPI_BYTE, piece, cnt, dsp, MPI_BYTE, 0,
				 MPI_COMM_WORLD);
		if (rc != MPI_SUCCESS) {
			st = mpi_fail(rc, "MPI_Gatherv", err);
			break;
		}
		for (int r = 0; rank == 0 && r < size; r++)
			if (cnt[r])
				memcpy(*all + at[r] + off, piece + dsp[r],
				       (size_t)cnt[r]);
	}
	free(piece);
	free(cnt);
	free(dsp);
	free(at);
	if (st != MP_OK) {
		free(*all);
		*all = NULL;
	}
	return st;
}

#else /* one process */

bool mp_mpi_built(void)
{
	return false;
}

const char *mp_mpi_library(void)
{
	return "no";
}

mp_status mp_mpi_start(int *rank, int *size, struct mp_error *err)
{
	*rank = 0;
	*size = 1;
	return mp_error_set(err, MP_EINVAL,
			    "this modelprint was built without MPI "
			    "(./configure --with-mpi)");
}

void mp_mpi_stop(void) {}

mp_status mp_mpi_agree(mp_status st, struct mp_error *err)
{
	return st;
}

mp_status mp_mpi_sum(uint64_t *v, size_t n, struct mp_error *err)
{
	return MP_OK;
}

mp_status mp_mpi_gather(const void *buf, uint64_t len, char **all,
			uint64_t *lens, struct mp_error *err)
{
	lens[0] = len;
	*all = malloc(len ? len : 1);
	if (!*all)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	memcpy(*all, buf, len);
	return MP_OK;
}
#endif
