/* fp_spectral.c — placeholder. */
#include "mp.h"
