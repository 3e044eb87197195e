/* ggml_types.c — which file answers for a ggml type (ggml_dequant.h). */
#include "ggml_dequant.h"

#include <string.h>

const struct mp_ggml_type_info *mp_ggml_type(uint32_t id)
{
	const struct mp_ggml_type_info *t = mp_ggml_quants_type(id);
	if (!t)
		t = mp_ggml_kquants_type(id);
	if (!t)
		t = mp_ggml_iquants_type(id);
	return t;
}

float mp_ggml_half(const uint8_t *p)
{
	uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8;
	uint32_t sign = (h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t man = h & 0x3ffu;
	uint32_t bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | man << 13;
	} else if (exp != 0) {
		bits = sign | (exp + 112) << 23 | man << 13;
	} else if (man == 0) {
		bits = sign;
	} else {
		/* subnormal half: normalise into a float */
		exp = 113;
		while (!(man & 0x400u)) {
			man <<= 1;
			exp--;
		}
		bits = sign | exp << 23 | (man & 0x3ffu) << 13;
	}
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}
