/* translator/sql.c - see sql.h. */
#include "translator/sql.h"

#include <string.h>

#include "core/err.h"

static const char *const sql_systems[] = {"db2",    "derby",    "hive",     "mariadb",
                                          "mssql",  "mysql",    "oracle",   "postgresql",
                                          "sqlite", "teradata", "other_sql"};

/* db.system.name values of SQL databases renamed by the newer conventions (opt-in). */
static const char *const sql_systems_new[] = {"ibm_db2", "microsoft.sql_server", "oracle.db"};

static const char *live_str(struct xb_tr_attrs *a, enum xb_tr_key key)
{
    struct xb_tr_attr *e = xb_tr_attrs_live_k(a, key);

    return e ? xb_tr_any_str(e->val) : "";
}

/* |old_key|'s string when present, else (|new_semconv|) |new_key|'s, else "". */
static const char *live_str2(struct xb_tr_attrs *a, enum xb_tr_key old_key, enum xb_tr_key new_key,
                             int new_semconv)
{
    if (!new_semconv || xb_tr_attrs_live_k(a, old_key))
        return live_str(a, old_key);
    return live_str(a, new_key);
}

static struct xb_str cs(const char *s)
{
    struct xb_str r = {s, strlen(s)};
    return r;
}

int xb_tr_sql_build(struct xb_tr_attrs *a, const xb_pb_span *span, int new_semconv,
                    struct xb_arena *arena, struct xb_tr_xsql **out)
{
    const char *sys = live_str2(a, XB_TK_DB_SYSTEM, XB_TK_DB_SYSTEM_NAME, new_semconv), *conn, *db;
    struct xb_tr_xsql *q;
    size_t i, n;
    int rc = XB_OK, is_sql = 0;
    char *cs_buf;

    *out = NULL;
    /* (most spans have no database system: no comparisons then) */
    for (i = 0; *sys && !is_sql && i < sizeof(sql_systems) / sizeof(sql_systems[0]); i++)
        if (strcmp(sys, sql_systems[i]) == 0)
            is_sql = 1;
    for (i = 0; *sys && new_semconv && i < sizeof(sql_systems_new) / sizeof(sql_systems_new[0]);
         i++)
        if (strcmp(sys, sql_systems_new[i]) == 0)
            is_sql = 1;
    if (!is_sql)
        goto out;
    q = xb_arena_calloc(arena, sizeof(*q));
    conn = live_str(a, XB_TK_DB_CONNECTION_STRING);
    db = live_str2(a, XB_TK_DB_NAME, XB_TK_DB_NAMESPACE, new_semconv);
    if (!*conn)
        conn = "localhost";
    n = strlen(conn) + 1 + strlen(db);
    cs_buf = q ? xb_arena_alloc(arena, n + 1) : NULL;
    if (!cs_buf) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    strcpy(cs_buf, conn);
    strcat(cs_buf, "/");
    strcat(cs_buf, db);
    q->connection_string = cs(cs_buf);
    q->url = cs(span->name ? span->name : "");
    q->sanitized_query = cs(live_str2(a, XB_TK_DB_STATEMENT, XB_TK_DB_QUERY_TEXT, new_semconv));
    q->database_type = cs(sys);
    q->user = cs(live_str(a, XB_TK_DB_USER));
    xb_tr_attrs_consume_k(a, XB_TK_DB_CONNECTION_STRING);
    xb_tr_attrs_consume_k(a, XB_TK_DB_SYSTEM);
    xb_tr_attrs_consume_k(a, XB_TK_DB_NAME);
    xb_tr_attrs_consume_k(a, XB_TK_DB_STATEMENT);
    xb_tr_attrs_consume_k(a, XB_TK_DB_USER);
    if (new_semconv) {
        xb_tr_attrs_consume_k(a, XB_TK_DB_SYSTEM_NAME);
        xb_tr_attrs_consume_k(a, XB_TK_DB_NAMESPACE);
        xb_tr_attrs_consume_k(a, XB_TK_DB_QUERY_TEXT);
    }
    *out = q;
out:
    return rc;
}
