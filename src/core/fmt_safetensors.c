/* fmt_safetensors.c — placeholder until the reader lands. */
#include "model.h"
static bool probe(const char *path) { (void)path; return false; }
static mp_status open_model(struct mp_model *m, const char *path, struct mp_error *err)
{ (void)m; return mp_error_set(err, MP_EFORMAT, "%s: unsupported", path); }
const struct mp_format_ops mp_fmt_safetensors = {"safetensors", probe, open_model};
