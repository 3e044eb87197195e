/* dtype.h — element types as stored in model files, and their conversion to
 * double. A tensor's bytes are always little-endian. */
#ifndef MP_DTYPE_H
#define MP_DTYPE_H

#include "mp.h"

#define MP_DTYPE_LIST(X)                                                      \
	X(MP_F64, "F64", 8, 1)                                                \
	X(MP_F32, "F32", 4, 1)                                                \
	X(MP_F16, "F16", 2, 1)                                                \
	X(MP_BF16, "BF16", 2, 1)                                              \
	X(MP_F8_E4M3, "F8_E4M3", 1, 1)                                        \
	X(MP_F8_E5M2, "F8_E5M2", 1, 1)                                        \
	X(MP_I64, "I64", 8, 0)                                                \
	X(MP_I32, "I32", 4, 0)                                                \
	X(MP_I16, "I16", 2, 0)                                                \
	X(MP_I8, "I8", 1, 0)                                                  \
	X(MP_U64, "U64", 8, 0)                                                \
	X(MP_U32, "U32", 4, 0)                                                \
	X(MP_U16, "U16", 2, 0)                                                \
	X(MP_U8, "U8", 1, 0)                                                  \
	X(MP_BOOL, "BOOL", 1, 0)

enum mp_dtype {
#define MP_X_DT(id, name, size, fl) id,
	MP_DTYPE_LIST(MP_X_DT)
#undef MP_X_DT
	MP_DTYPE_COUNT
};

/* Bytes per element. */
unsigned mp_dtype_size(enum mp_dtype dt);
/* True for the floating types (statistics and spectra apply). */
bool mp_dtype_is_float(enum mp_dtype dt);
/* Significand bits of a float type (53, 24, 11, 8); 0 for the others. */
int mp_dtype_significand(enum mp_dtype dt);
/* Canonical (safetensors) spelling, e.g. "BF16". */
const char *mp_dtype_name(enum mp_dtype dt);
/* Parse a canonical name; returns -1 when unknown. */
int mp_dtype_parse(const char *name);

/* Decode one element of a 1- or 2-byte type from its raw little-endian bit
 * pattern (the pattern is the byte for 1-byte types). */
double mp_dtype_decode16(enum mp_dtype dt, uint16_t bits);

/* Convert n elements starting at src (any alignment) to double. */
void mp_dtype_to_double(enum mp_dtype dt, const uint8_t *src, size_t n,
			double *dst);

/* Half precision helpers. */
float mp_f16_to_f32(uint16_t h);
float mp_bf16_to_f32(uint16_t h);

#endif
