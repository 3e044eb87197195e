/* ggml_kquants.c — dequantization of the k-quants Q2_K to Q8_K (ggml_dequant.h). */
#include "ggml_dequant.h"

#include <stddef.h>

static const struct mp_ggml_type_info types[] = {{0, NULL, 0, 0, NULL}};

const struct mp_ggml_type_info *mp_ggml_kquants_type(uint32_t id)
{
	for (size_t i = 0; types[i].name; i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}
