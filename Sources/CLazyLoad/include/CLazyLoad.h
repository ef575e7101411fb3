#ifndef CAIRN_LAZY_LOAD_H
#define CAIRN_LAZY_LOAD_H

#include <stddef.h>

/// One function a lazily loaded library must export: its name, the symbol version to bind
/// (NULL: the library's default, as a link would bind it) and where its address goes.
struct cairn_lazy_symbol {
    const char *name;
    const char *version;
    void **slot;
};

/// A C library that only some commands need (libcurl for S3, libpq for PostgreSQL connections,
/// libfuse3 for `cairn mount`): opened with dlopen on first use instead of by the dynamic loader
/// at every start. Zero-initialise it and set the first five fields; `cairn_lazy_load` owns the rest.
struct cairn_lazy_library {
    /// The pinned soname, e.g. "libcurl.so.4".
    const char *soname;
    /// What needs it, for the error line, e.g. "S3 repositories".
    const char *needed_by;
    /// What to install when it is missing, e.g. "libcurl4 (Debian, Ubuntu) or libcurl (Fedora)".
    const char *package;
    const struct cairn_lazy_symbol *symbols;
    size_t symbol_count;
    /// 0 not tried yet, 1 loaded, 2 failed (`reason` says why). Read and written atomically.
    int state;
    char reason[640];
};

/// A descriptor of `soname` whose functions are the array `symbol_table`.
#define CAIRN_LAZY_LIBRARY(soname_, needed_by_, package_, symbol_table) \
    { .soname = soname_, .needed_by = needed_by_, .package = package_, \
      .symbols = symbol_table, .symbol_count = sizeof symbol_table / sizeof symbol_table[0] }

/// Opens the library and resolves every symbol, once per process whatever the number of
/// threads calling. Returns NULL when the library is usable (every slot filled), else a
/// one-line reason naming the library and the package to install; a failure is kept, so a
/// later call returns the same reason without trying again. No slot is written on failure.
const char *cairn_lazy_load(struct cairn_lazy_library *library);

#endif
