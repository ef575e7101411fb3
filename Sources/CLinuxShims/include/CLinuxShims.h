#ifndef CLINUXSHIMS_H
#define CLINUXSHIMS_H
#include <stddef.h>
#include <stdint.h>

/* Thin wrappers over the Linux key-management system calls (add_key, keyctl),
   which are variadic through syscall(2) and so not callable from Swift.
   Each returns -1 with errno set on failure (ENOSYS/EPERM where the kernel
   or a seccomp profile forbids keyrings). */

/* Adds a "user" key to the calling user's keyring (shared by the user's
   processes, kept in kernel memory), readable by that user only, expiring
   after `timeout_seconds`. */
int32_t cairn_keyring_add(const char *description, const void *payload, size_t length, uint32_t timeout_seconds);

/* Finds a "user" key in the user keyring; returns its serial or -1. */
int32_t cairn_keyring_search(const char *description);

/* Reads up to `capacity` bytes of a key's payload; returns its length or -1. */
long cairn_keyring_read(int32_t serial, void *buffer, size_t capacity);

/* Revokes a key (a stale or rejected entry). */
int cairn_keyring_revoke(int32_t serial);

/* Raises glibc's heap trim threshold to `bytes` (no-op elsewhere). */
void cairn_set_malloc_trim_threshold(int bytes);
/* mallopt(M_MMAP_THRESHOLD): allocations below `bytes` come from malloc's heaps (and are reused) instead of a fresh mmap each. */
void cairn_set_malloc_mmap_threshold(int bytes);

/* Routes OpenSSL's allocations of 4 MiB and more (the scrypt buffer) to their
   own mappings on transparent huge pages. Must run before OpenSSL allocates
   anything; returns 0 (and changes nothing) when that is too late. */
int cairn_openssl_use_huge_pages(void);

/* Turns core dumps of this process off: soft RLIMIT_CORE 0 and
   PR_SET_DUMPABLE 0. Returns 0, or -1 when either could not be set. */
int cairn_disable_core_dumps(void);

/* Raises the soft limit on open descriptors to the hard limit (as Go
   programs do at start); returns the soft limit now in force (or -1). */
long cairn_raise_open_file_limit(void);

/* PR_GET_DUMPABLE: 0 when core dumps (and same-user ptrace) are off. */
int cairn_is_dumpable(void);

/* Marks the pages holding [address, address + length) MADV_DONTDUMP, so no
   core dump of any kind contains them. Returns madvise's result. */
int cairn_exclude_from_core_dumps(const void *address, size_t length);

#include "cairn_fs.h"

#endif
