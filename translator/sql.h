/*
 * translator/sql.h - the X-Ray "sql" block for SQL database spans (awsxrayexporter,
 * docs/translation.md "sql").
 */
#ifndef XB_TRANSLATOR_SQL_H
#define XB_TRANSLATOR_SQL_H

#include "core/arena.h"
#include "proto/otlp.h"
#include "translator/attrs.h"
#include "translator/doc.h"

/*
 * When db.system names an SQL database (db2, derby, hive, mariadb, mssql, mysql, oracle,
 * postgresql, sqlite, teradata, other_sql), builds *|out| (arena) and consumes
 * db.connection_string, db.system, db.name, db.statement, db.user; otherwise *|out| is
 * NULL and nothing is consumed. url = |span| name; connection_string =
 * (db.connection_string or "localhost") + "/" + db.name. |new_semconv|
 * (read_new_semantic_conventions): db.system.name, db.namespace and db.query.text stand in
 * for a missing db.system, db.name and db.statement (and are consumed with them), and
 * ibm_db2, microsoft.sql_server, oracle.db also count as SQL.
 * Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_sql_build(struct xb_tr_attrs *attrs, const xb_pb_span *span, int new_semconv,
                    struct xb_arena *arena, struct xb_tr_xsql **out);

#endif
