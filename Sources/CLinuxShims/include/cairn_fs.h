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

/* copy_file_range(2) of up to `length` bytes from `in_fd` at `*in_offset` to
   `out_fd` at `*out_offset` (both advanced): the kernel copies the bytes
   without a pass through user memory. ENOSYS where there is none. */
ssize_t cairn_copy_file_range(int in_fd, int64_t *in_offset, int out_fd, int64_t *out_offset, size_t length);

/* sync_file_range(2) with SYNC_FILE_RANGE_WRITE over the whole file: starts
   writing its dirty pages back without waiting (a later fsync waits less).
   Makes nothing durable on its own; 0 where there is none. */
int cairn_start_writeback(int fd);

/* `cairn_start_writeback` of `length` bytes of `fd` from `offset` only (a
   restore's run just written): a hint, 0 where there is no such call. */
int cairn_start_writeback_range(int fd, int64_t offset, int64_t length);

/* Opens `name` in `dirfd` as an O_PATH descriptor without following it. */
int cairn_open_path_nofollow(int dirfd, const char *name);

/* lsetxattr on the entry `name` of `dirfd` (never following `name`), through
   /proc/self/fd: for symbolic links, which have no descriptor to write through. */
int cairn_lsetxattr_at(int dirfd, const char *name, const char *attribute, const void *value, size_t size);

#endif
