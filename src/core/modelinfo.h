/* modelinfo.h — placeholder. */
