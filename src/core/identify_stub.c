/* identify_stub.c — TEMPORARY stand-in for identify.c (being written on
 * main) so that the identify view builds and its tests run; removed when
 * identify.c is merged. mp_identify refuses; the rest follows identify.h. */
#include "identify.h"

#include <stdlib.h>

mp_status mp_identify(const struct mp_fingerprint *unknown,
		      const struct mp_ident_ref *refs, size_t n,
		      const struct mp_ident_opts *opts,
		      struct mp_ident_result **out, struct mp_error *err)
{
	(void)unknown, (void)refs, (void)n, (void)opts;
	*out = NULL;
	return mp_error_set(err, MP_EINVAL, "identify is not built yet");
}

void mp_ident_result_free(struct mp_ident_result *r)
{
	if (!r)
		return;
	mp_arch_result_free(r->arch);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i].name);
	free(r->keys);
	free(r->scores);
	free(r->relation.renames);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
}

static const char *const words[][2] = {
	{"exact copy", "copy"},	       {"dtype conversion", "dtype"},
	{"quantization", "quant"},     {"pruning", "prune"},
	{"fine-tune", "finetune"},     {"merge", "merge"},
	{"renamed tensors", "renamed"}, {"permuted hidden units", "permuted"},
	{"unrelated weights", "unrelated"}, {"no match", "none"}};

const char *mp_ident_kind_name(enum mp_ident_kind k)
{
	return (unsigned)k < 10 ? words[k][0] : "?";
}

const char *mp_ident_kind_key(enum mp_ident_kind k)
{
	return (unsigned)k < 10 ? words[k][1] : "?";
}

const char *mp_ident_selection_name(enum mp_ident_selection s)
{
	return s == MP_SEL_SEED ? "seed" : s == MP_SEL_EQUAL ? "equal" : "dynamic";
}
