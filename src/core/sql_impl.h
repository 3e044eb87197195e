/* sql_impl.h — what the SQL backends share behind sql.h (minimal version
 * of the pg branch: the connection struct only; sql.c's dispatch table is
 * the lead's). */
#ifndef MP_SQL_IMPL_H
#define MP_SQL_IMPL_H

#include "sql.h"

/* One open connection: the backend, the name errors show (path, or URL
 * without its password) and the backend's handle (sqlite3 *, PGconn *). */
struct mp_sql {
	enum mp_sql_kind kind;
	char *name;
	void *conn;
};

#endif
