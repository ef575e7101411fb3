// libpq through dlopen: the addresses of the functions cairn calls, resolved on first use.
#include "CLibPQ.h"
#include "CLazyLoad.h"

static struct {
    PGconn *(*connectdb)(const char *);
    ConnStatusType (*status)(const PGconn *);
    char *(*error_message)(const PGconn *);
    void (*finish)(PGconn *);
    int (*server_version)(const PGconn *);
    PGresult *(*exec_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *, int);
    void (*clear)(PGresult *);
    ExecStatusType (*result_status)(const PGresult *);
    char *(*result_error_message)(const PGresult *);
    int (*ntuples)(const PGresult *);
    int (*nfields)(const PGresult *);
    int (*getisnull)(const PGresult *, int, int);
    char *(*getvalue)(const PGresult *, int, int);
    PQconninfoOption *(*conninfo_parse)(const char *, char **);
    void (*conninfo_free)(PQconninfoOption *);
    void (*freemem)(void *);
} fn;

static const struct cairn_lazy_symbol symbols[] = {
    { "PQconnectdb", NULL, (void **)&fn.connectdb },
    { "PQstatus", NULL, (void **)&fn.status },
    { "PQerrorMessage", NULL, (void **)&fn.error_message },
    { "PQfinish", NULL, (void **)&fn.finish },
    { "PQserverVersion", NULL, (void **)&fn.server_version },
    { "PQexecParams", NULL, (void **)&fn.exec_params },
    { "PQclear", NULL, (void **)&fn.clear },
    { "PQresultStatus", NULL, (void **)&fn.result_status },
    { "PQresultErrorMessage", NULL, (void **)&fn.result_error_message },
    { "PQntuples", NULL, (void **)&fn.ntuples },
    { "PQnfields", NULL, (void **)&fn.nfields },
    { "PQgetisnull", NULL, (void **)&fn.getisnull },
    { "PQgetvalue", NULL, (void **)&fn.getvalue },
    { "PQconninfoParse", NULL, (void **)&fn.conninfo_parse },
    { "PQconninfoFree", NULL, (void **)&fn.conninfo_free },
    { "PQfreemem", NULL, (void **)&fn.freemem },
};

static struct cairn_lazy_library library = CAIRN_LAZY_LIBRARY(
    "libpq.so.5", "PostgreSQL connections",
    "libpq5 (Debian, Ubuntu: apt-get install libpq5) or libpq (Fedora)", symbols);

const char *cairn_pq_load(void) { return cairn_lazy_load(&library); }

PGconn *cairn_PQconnectdb(const char *conninfo) { return fn.connectdb(conninfo); }
ConnStatusType cairn_PQstatus(const PGconn *conn) { return fn.status(conn); }
char *cairn_PQerrorMessage(const PGconn *conn) { return fn.error_message(conn); }
void cairn_PQfinish(PGconn *conn) { fn.finish(conn); }
int cairn_PQserverVersion(const PGconn *conn) { return fn.server_version(conn); }
PGresult *cairn_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                             int resultFormat) {
    return fn.exec_params(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat);
}
void cairn_PQclear(PGresult *res) { fn.clear(res); }
ExecStatusType cairn_PQresultStatus(const PGresult *res) { return fn.result_status(res); }
char *cairn_PQresultErrorMessage(const PGresult *res) { return fn.result_error_message(res); }
int cairn_PQntuples(const PGresult *res) { return fn.ntuples(res); }
int cairn_PQnfields(const PGresult *res) { return fn.nfields(res); }
int cairn_PQgetisnull(const PGresult *res, int row, int field) { return fn.getisnull(res, row, field); }
char *cairn_PQgetvalue(const PGresult *res, int row, int field) { return fn.getvalue(res, row, field); }
PQconninfoOption *cairn_PQconninfoParse(const char *conninfo, char **errmsg) { return fn.conninfo_parse(conninfo, errmsg); }
void cairn_PQconninfoFree(PQconninfoOption *options) { fn.conninfo_free(options); }
void cairn_PQfreemem(void *ptr) { fn.freemem(ptr); }
