#ifndef CAIRN_LIBPQ_H
#define CAIRN_LIBPQ_H
// libpq for PGConnection (base backups, dumps' checks, `pg status`), loaded on first use (dlopen
// of libpq.so.5; Docs/architecture.md, "Libraries loaded on first use"): every `cairn` process,
// wal-push and wal-fetch among them, would otherwise load libpq and the Kerberos, LDAP and TLS
// libraries it needs at start. The header gives the types and constants; the functions are the
// cairn_ wrappers below. Debian keeps the header in postgresql/, Fedora and others in the top directory.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

/// Loads libpq, once per process (thread-safe). Returns NULL when it is usable, else one line
/// naming the library and the package to install. Every other function here may be called
/// only after it returned NULL.
const char *cairn_pq_load(void);

PGconn *cairn_PQconnectdb(const char *conninfo);
ConnStatusType cairn_PQstatus(const PGconn *conn);
char *cairn_PQerrorMessage(const PGconn *conn);
void cairn_PQfinish(PGconn *conn);
int cairn_PQserverVersion(const PGconn *conn);
PGresult *cairn_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                             int resultFormat);
void cairn_PQclear(PGresult *res);
ExecStatusType cairn_PQresultStatus(const PGresult *res);
char *cairn_PQresultErrorMessage(const PGresult *res);
int cairn_PQntuples(const PGresult *res);
int cairn_PQnfields(const PGresult *res);
int cairn_PQgetisnull(const PGresult *res, int row, int field);
char *cairn_PQgetvalue(const PGresult *res, int row, int field);
PQconninfoOption *cairn_PQconninfoParse(const char *conninfo, char **errmsg);
void cairn_PQconninfoFree(PQconninfoOption *options);
void cairn_PQfreemem(void *ptr);

#endif
