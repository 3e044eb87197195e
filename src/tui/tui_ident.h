/* tui_ident.h — `identify` for the interface: what the identify view shows
 * and owns (the result of mp_identify, its references and their
 * fingerprints, the signatures), built from a model file or from a model of
 * the loaded data against the other models of the data. */
#ifndef MP_TUI_IDENT_H
#define MP_TUI_IDENT_H

#include "identify.h"
#include "tui_data.h"

struct mp_tui_ident {
	char *unknown;		     /* the name shown for the unknown, owned */
	struct mp_fingerprint *ufp;  /* the unknown's, owned (may be NULL) */
	struct mp_arch_set *arch;    /* owned (may be NULL) */
	struct mp_ident_ref *refs;   /* [nrefs] owned array; id and name
				      * borrowed from the data's models */
	struct mp_fingerprint **fps; /* [nrefs] owned */
	size_t nrefs;
	struct mp_ident_result *result; /* owned */
};

/* Free everything id owns (NULL allowed). */
void mp_tui_ident_free(struct mp_tui_ident *id);

/* Identify ufp (taken, freed on error too) called name (its files at path,
 * NULL when not at hand) against the `tensors` fingerprint of every model
 * of d except model skip (an index into d->models, or (size_t)-1), with the
 * signatures of sigfile (NULL: the installed architectures.json). Models
 * without a fingerprint are left out. Errors: signatures unreadable,
 * mp_identify's errors. d must outlive *out. */
mp_status mp_tui_ident_build(const struct mp_tui_data *d,
			     struct mp_fingerprint *ufp, const char *name,
			     const char *path, size_t skip,
			     const char *sigfile, struct mp_tui_ident **out,
			     struct mp_error *err);

/* The same for the model file or directory at path, fingerprinted with the
 * `tensors` method first. Errors name the file. */
mp_status mp_tui_ident_file(const struct mp_tui_data *d, const char *path,
			    const char *sigfile, struct mp_tui_ident **out,
			    struct mp_error *err);

/* The same for model mi of d (its stored `tensors` fingerprint) against
 * the other models. */
mp_status mp_tui_ident_model(const struct mp_tui_data *d, size_t mi,
			     const char *sigfile, struct mp_tui_ident **out,
			     struct mp_error *err);

#endif
