/* llm_io.h — the input_output fingerprint of a causal LM (seed 000's
 * published algorithm, issue 14 steps 2-3), from token ids. */
#ifndef MP_LLM_IO_H
#define MP_LLM_IO_H

#include "llm.h"

/* The fingerprint of llm for np probes (probe i is ids[off[i] ..
 * off[i+1]), off[0] = 0) and nt target ids: v_i = mean over positions p of
 * (E[t_p] + sin p), u_i = sum_j P(target_j | probe i) E[target_j] with P
 * the full-vocabulary softmax of the logits at the probe's last position;
 * A = U pinv(V) (V, U: dim x np; pinv by SVD, singular values below
 * 1e-15 * the largest dropped, numpy.linalg.pinv's default rcond); the
 * min(n0, dim) largest |eigenvalues| of A, sorted ascending, divided by
 * their Euclidean norm, into *out[0..*nout) (the caller frees *out).
 * Errors: n0 <= 0, no probe or no target, an id out of range, an
 * eigenvalue computation that does not converge. */
mp_status mp_io_fingerprint(struct mp_llm *llm, const int32_t *ids,
			    const size_t *off, size_t np,
			    const int32_t *targets, size_t nt, int n0,
			    double **out, size_t *nout, struct mp_error *err);

#endif
