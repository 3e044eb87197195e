/* ggml_types.c — which file answers for a ggml type (ggml_dequant.h). */
#include "ggml_dequant.h"

const struct mp_ggml_type_info *mp_ggml_type(uint32_t id)
{
	const struct mp_ggml_type_info *t = mp_ggml_quants_type(id);
	if (!t)
		t = mp_ggml_kquants_type(id);
	if (!t)
		t = mp_ggml_iquants_type(id);
	return t;
}
