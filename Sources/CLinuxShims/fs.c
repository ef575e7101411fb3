#define _GNU_SOURCE
#include "CLinuxShims.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/xattr.h>

int cairn_open_tmpfile(int dirfd, mode_t mode) {
    return openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
}

int cairn_link_descriptor(int fd, int dirfd, const char *name) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno != ENOENT) return -1;
    /* No /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). */
    return linkat(fd, "", dirfd, name, AT_EMPTY_PATH);
}

int cairn_syncfs(int fd) { return syncfs(fd); }

int cairn_open_direct(const char *path) { return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC); }

int cairn_start_writeback_range(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int cairn_open_path_nofollow(int dirfd, const char *name) {
    return openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

int cairn_lsetxattr_at(int dirfd, const char *name, const char *attribute, const void *value, size_t size) {
    char path[4096 + 64];
    int n = snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name);
    if (n < 0 || (size_t)n >= sizeof path) { errno = ENAMETOOLONG; return -1; }
    return lsetxattr(path, attribute, value, size, 0);
}
#else
int cairn_open_tmpfile(int dirfd, mode_t mode) { (void)dirfd; (void)mode; errno = EOPNOTSUPP; return -1; }
int cairn_link_descriptor(int fd, int dirfd, const char *name) { (void)fd; (void)dirfd; (void)name; errno = ENOSYS; return -1; }
int cairn_syncfs(int fd) { return fsync(fd); }
int cairn_open_direct(const char *path) { (void)path; errno = EINVAL; return -1; }
int cairn_start_writeback_range(int fd, int64_t offset, int64_t length) { (void)fd; (void)offset; (void)length; return 0; }
int cairn_open_path_nofollow(int dirfd, const char *name) { return openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); }
int cairn_lsetxattr_at(int dirfd, const char *name, const char *attribute, const void *value, size_t size) {
    (void)dirfd; (void)name; (void)attribute; (void)value; (void)size; errno = ENOTSUP; return -1;
}
#endif
