/* dtype.c — element decoding. */
#include "dtype.h"

#include <math.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned size;
	bool is_float;
} table[MP_DTYPE_COUNT] = {
#define MP_X_ROW(id, name, size, fl) [id] = {name, size, fl},
	MP_DTYPE_LIST(MP_X_ROW)
#undef MP_X_ROW
};

unsigned mp_dtype_size(enum mp_dtype dt) { return table[dt].size; }
bool mp_dtype_is_float(enum mp_dtype dt) { return table[dt].is_float; }
const char *mp_dtype_name(enum mp_dtype dt) { return table[dt].name; }

int mp_dtype_parse(const char *name)
{
	for (int i = 0; i < MP_DTYPE_COUNT; i++)
		if (strcmp(table[i].name, name) == 0)
			return i;
	return -1;
}

float mp_f16_to_f32(uint16_t h)
{
	unsigned sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
	float v;
	if (exp == 0)
		v = ldexpf((float)man, -24);
	else if (exp == 31)
		v = man ? NAN : INFINITY;
	else
		v = ldexpf((float)(man | 1024), (int)exp - 25);
	return sign ? -v : v;
}

float mp_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* E4M3 "fn": bias 7, no infinities, S.1111.111 is NaN. */
static double f8_e4m3(uint8_t b)
{
	unsigned sign = b >> 7, exp = (b >> 3) & 15, man = b & 7;
	double v;
	if (exp == 15 && man == 7)
		return NAN;
	if (exp == 0)
		v = ldexp((double)man, -9);
	else
		v = ldexp((double)(man | 8), (int)exp - 10);
	return sign ? -v : v;
}

/* E5M2: bias 15, IEEE-style infinities and NaNs. */
static double f8_e5m2(uint8_t b)
{
	unsigned sign = b >> 7, exp = (b >> 2) & 31, man = b & 3;
	double v;
	if (exp == 31)
		v = man ? NAN : INFINITY;
	else if (exp == 0)
		v = ldexp((double)man, -16);
	else
		v = ldexp((double)(man | 4), (int)exp - 17);
	return sign ? -v : v;
}

double mp_dtype_decode16(enum mp_dtype dt, uint16_t bits)
{
	switch (dt) {
	case MP_F16:
		return mp_f16_to_f32(bits);
	case MP_BF16:
		return mp_bf16_to_f32(bits);
	case MP_F8_E4M3:
		return f8_e4m3((uint8_t)bits);
	case MP_F8_E5M2:
		return f8_e5m2((uint8_t)bits);
	case MP_I16:
		return (int16_t)bits;
	case MP_U16:
		return bits;
	case MP_I8:
		return (int8_t)(uint8_t)bits;
	case MP_U8:
		return (uint8_t)bits;
	case MP_BOOL:
		return (uint8_t)bits ? 1.0 : 0.0;
	default:
		return NAN;
	}
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void mp_dtype_to_double(enum mp_dtype dt, const uint8_t *src, size_t n,
			double *dst)
{
	unsigned size = table[dt].size;
	switch (dt) {
	case MP_F64:
		for (size_t i = 0; i < n; i++) {
			uint64_t u = load_le(src + 8 * i, 8);
			memcpy(&dst[i], &u, 8);
		}
		return;
	case MP_F32:
		for (size_t i = 0; i < n; i++) {
			float f;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			memcpy(&f, src + 4 * i, 4);
#else
			uint32_t u = (uint32_t)load_le(src + 4 * i, 4);
			memcpy(&f, &u, 4);
#endif
			dst[i] = f;
		}
		return;
	case MP_I64:
		for (size_t i = 0; i < n; i++)
			dst[i] = (double)(int64_t)load_le(src + 8 * i, 8);
		return;
	case MP_U64:
		for (size_t i = 0; i < n; i++)
			dst[i] = (double)load_le(src + 8 * i, 8);
		return;
	case MP_I32:
		for (size_t i = 0; i < n; i++)
			dst[i] = (int32_t)(uint32_t)load_le(src + 4 * i, 4);
		return;
	case MP_U32:
		for (size_t i = 0; i < n; i++)
			dst[i] = (uint32_t)load_le(src + 4 * i, 4);
		return;
	default:
		for (size_t i = 0; i < n; i++)
			dst[i] = mp_dtype_decode16(
				dt, (uint16_t)load_le(src + size * i, size));
		return;
	}
}

int mp_dtype_significand(enum mp_dtype dt)
{
	switch (dt) {
	case MP_F64:
		return 53;
	case MP_F32:
		return 24;
	case MP_F16:
		return 11;
	case MP_BF16:
		return 8;
	default:
		return 0;
	}
}

