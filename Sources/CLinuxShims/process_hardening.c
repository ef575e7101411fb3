#include "CLinuxShims.h"
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

/* A core dump of Cairn would hold the master key and its subkeys in clear.
   Three layers, because each has a gap: RLIMIT_CORE 0 (ignored when the
   kernel pipes cores to systemd-coredump or apport), PR_SET_DUMPABLE 0
   (ignored when fs.suid_dumpable is 2: the core is then written, owned by
   root), and MADV_DONTDUMP on the pages holding key material (honoured by
   every kind of dump, but only where the keys are). Non-dumpable also keeps
   other processes of the same user from ptrace and from /proc/PID/environ
   and /proc/PID/mem. Children start dumpable again (execve resets it) but
   inherit the soft core limit of 0. */
int cairn_disable_core_dumps(void) {
    int failed = 0;
    struct rlimit limit;
    if (getrlimit(RLIMIT_CORE, &limit) == 0) {
        limit.rlim_cur = 0;
        if (setrlimit(RLIMIT_CORE, &limit) != 0) failed = 1;
    } else {
        failed = 1;
    }
#if defined(__linux__)
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) failed = 1;
#endif
    return failed ? -1 : 0;
}

long cairn_raise_open_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        struct rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)limit.rlim_cur;
}

int cairn_is_dumpable(void) {
#if defined(__linux__)
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#else
    return -1;
#endif
}

int cairn_exclude_from_core_dumps(const void *address, size_t length) {
#if defined(__linux__) && defined(MADV_DONTDUMP)
    if (address == NULL || length == 0) return 0;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    uintptr_t start = (uintptr_t)address & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)address + length + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    return madvise((void *)start, end - start, MADV_DONTDUMP);
#else
    (void)address; (void)length;
    return 0;
#endif
}
