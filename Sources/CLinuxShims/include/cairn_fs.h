#ifndef CAIRN_FS_H
#define CAIRN_FS_H
#include <stdint.h>
#include <sys/types.h>

/* Linux file-system calls whose flags Swift's Glibc module does not export
   (they need _GNU_SOURCE): the restorer's descriptor-relative writes. Each
   returns -1 with errno set on failure. */

/* An unnamed file in the directory `dirfd` (O_TMPFILE, write-only,
   close-on-exec); EOPNOTSUPP/EISDIR where the file system has none. */
int cairn_open_tmpfile(int dirfd, mode_t mode);

/* Gives the file open as `fd` the name `name` in `dirfd` (linkat through
   /proc/self/fd, else AT_EMPTY_PATH); fails with EEXIST if the name exists. */
int cairn_link_descriptor(int fd, int dirfd, const char *name);

/* syncfs(2): writes back the whole file system holding `fd`. */
int cairn_syncfs(int fd);

/* Opens the existing file `path` for writing with O_DIRECT (writes go from
   the caller's buffer to the device, past the page cache; offsets, lengths
   and the buffer's address must be multiples of the device's block size).
   EINVAL where the file system has no direct I/O. */
int cairn_open_direct(const char *path);

/* sync_file_range(2) with SYNC_FILE_RANGE_WRITE of `length` bytes of `fd`
   from `offset` (a restore's run just written): starts writing those pages
   back without waiting; a hint, 0 where there is no such call. */
int cairn_start_writeback_range(int fd, int64_t offset, int64_t length);

/* Opens `name` in `dirfd` as an O_PATH descriptor without following it. */
int cairn_open_path_nofollow(int dirfd, const char *name);

/* lsetxattr on the entry `name` of `dirfd` (never following `name`), through
   /proc/self/fd: for symbolic links, which have no descriptor to write through. */
int cairn_lsetxattr_at(int dirfd, const char *name, const char *attribute, const void *value, size_t size);

#endif
