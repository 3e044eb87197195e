/* groups.h — placeholder. */
