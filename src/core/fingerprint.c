/* fingerprint.c — placeholder. */
#include "mp.h"
