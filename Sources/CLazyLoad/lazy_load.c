// Loading a C library on first use. One mutex serialises the loads of every library (they
// happen a few times per process at most); the state is published with release/acquire so a
// caller that sees "loaded" also sees every slot.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "CLazyLoad.h"

enum { NOT_TRIED = 0, LOADED = 1, FAILED = 2 };

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *last_dl_error(void) {
    const char *e = dlerror();
    return e ? e : "unknown reason";
}

/// Resolves every symbol into `addresses`; on a missing one writes the reason and returns 0.
static int resolve_all(struct cairn_lazy_library *l, void *handle, void **addresses) {
    for (size_t i = 0; i < l->symbol_count; i++) {
        const struct cairn_lazy_symbol *s = &l->symbols[i];
        dlerror();
        addresses[i] = s->version ? dlvsym(handle, s->name, s->version) : dlsym(handle, s->name);
        if (addresses[i] == NULL) {
            snprintf(l->reason, sizeof l->reason,
                     "%s (needed for %s) has no %s%s%s (%s): it is older than the one cairn was built for; install a current %s",
                     l->soname, l->needed_by, s->name, s->version ? "@" : "", s->version ? s->version : "",
                     last_dl_error(), l->package);
            return 0;
        }
    }
    return 1;
}

static void load_locked(struct cairn_lazy_library *l) {
    dlerror();
    void *handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(l->reason, sizeof l->reason, "%s is needed for %s but could not be loaded (%s); install %s",
                 l->soname, l->needed_by, last_dl_error(), l->package);
        __atomic_store_n(&l->state, FAILED, __ATOMIC_RELEASE);
        return;
    }
    void *addresses[l->symbol_count ? l->symbol_count : 1];
    if (!resolve_all(l, handle, addresses)) {
        dlclose(handle);
        __atomic_store_n(&l->state, FAILED, __ATOMIC_RELEASE);
        return;
    }
    for (size_t i = 0; i < l->symbol_count; i++) *l->symbols[i].slot = addresses[i];
    // The handle stays open for the life of the process: the slots point into it.
    __atomic_store_n(&l->state, LOADED, __ATOMIC_RELEASE);
}

const char *cairn_lazy_load(struct cairn_lazy_library *l) {
    int state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
    if (state == NOT_TRIED) {
        pthread_mutex_lock(&load_lock);
        if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == NOT_TRIED) load_locked(l);
        pthread_mutex_unlock(&load_lock);
        state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
    }
    return state == LOADED ? NULL : l->reason;
}
