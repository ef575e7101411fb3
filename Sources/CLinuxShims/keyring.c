#include "CLinuxShims.h"
#include <errno.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>

#define KEY_SPEC_USER_KEYRING (-4)
#define KEYCTL_REVOKE 3
#define KEYCTL_SETPERM 5
#define KEYCTL_SEARCH 10
#define KEYCTL_READ 11
#define KEYCTL_SET_TIMEOUT 15
/* possessor: everything; the owning user: view, read, search; nobody else anything */
#define KEY_PERMISSIONS 0x3f0b0000u

int32_t cairn_keyring_add(const char *description, const void *payload, size_t length, uint32_t timeout_seconds) {
    long serial = syscall(SYS_add_key, "user", description, payload, length, KEY_SPEC_USER_KEYRING);
    if (serial < 0) return -1;
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, serial, KEY_PERMISSIONS) < 0 ||
        syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, serial, timeout_seconds) < 0) {
        int saved = errno;
        syscall(SYS_keyctl, KEYCTL_REVOKE, serial);
        errno = saved;
        return -1;
    }
    return (int32_t)serial;
}

int32_t cairn_keyring_search(const char *description) {
    long serial = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", description, 0);
    return serial < 0 ? -1 : (int32_t)serial;
}

long cairn_keyring_read(int32_t serial, void *buffer, size_t capacity) {
    return syscall(SYS_keyctl, KEYCTL_READ, serial, buffer, capacity);
}

int cairn_keyring_revoke(int32_t serial) {
    return (int)syscall(SYS_keyctl, KEYCTL_REVOKE, serial);
}
#else
int32_t cairn_keyring_add(const char *d, const void *p, size_t l, uint32_t t) { errno = ENOSYS; return -1; }
int32_t cairn_keyring_search(const char *d) { errno = ENOSYS; return -1; }
long cairn_keyring_read(int32_t s, void *b, size_t c) { errno = ENOSYS; return -1; }
int cairn_keyring_revoke(int32_t s) { errno = ENOSYS; return -1; }
#endif
