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

const char *mp_ggml_ftype_name(uint32_t ftype)
{
	/* llama.h's enum llama_ftype; 4-6 were removed from llama.cpp */
	static const char *const names[] = {
	    "F32",     "F16",	  "Q4_0",   "Q4_1",   NULL,	NULL,
	    NULL,      "Q8_0",	  "Q5_0",   "Q5_1",   "Q2_K",	"Q3_K_S",
	    "Q3_K_M",  "Q3_K_L",  "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M",
	    "Q6_K",    "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS",
	    "IQ1_S",   "IQ4_NL",  "IQ3_S",  "IQ3_M",  "IQ2_S",	"IQ2_M",
	    "IQ4_XS",  "IQ1_M",	  "BF16",   NULL,     NULL,	NULL,
	    "TQ1_0",   "TQ2_0",	  "MXFP4"};
	return ftype < sizeof names / sizeof names[0] ? names[ftype] : NULL;
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
