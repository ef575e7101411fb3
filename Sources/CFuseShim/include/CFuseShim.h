#ifndef CAIRN_FUSE_SHIM_H
#define CAIRN_FUSE_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/// Adds one directory entry during a readdir callback; returns non-zero when the buffer is full.
typedef int (*cairn_fuse_fill)(void *buffer, const char *name, const struct stat *st);

/// What a read-only file system answers. Every callback returns 0 or a negative errno
/// (read: the byte count, or a negative errno). `context` is handed back unchanged.
struct cairn_fuse_callbacks {
    void *context;
    int (*getattr)(void *context, const char *path, struct stat *st);
    int (*readdir)(void *context, const char *path, void *buffer, cairn_fuse_fill fill);
    int (*readlink)(void *context, const char *path, char *buffer, size_t size);
    int (*open)(void *context, const char *path, uint64_t *handle);
    int (*read)(void *context, uint64_t handle, char *buffer, size_t size, int64_t offset);
    int (*release)(void *context, uint64_t handle);
};

/// Loads libfuse3, once per process (thread-safe; `cairn_fuse_mount` does it first). Returns NULL
/// when it is usable, else one line naming the library and the package to install.
const char *cairn_fuse_load(void);

/// Mounts a read-only FUSE file system at `mountpoint`. Returns the session, or NULL with a
/// reason in `error`. The callbacks must stay valid until `cairn_fuse_destroy`.
void *cairn_fuse_mount(const char *mountpoint, const struct cairn_fuse_callbacks *callbacks,
                       const char *fsname, int allow_other, double cache_seconds,
                       char *error, size_t error_size);

/// Serves requests on `threads` threads at most until the file system is unmounted
/// (by `umount`, `fusermount -u` or `cairn_fuse_unmount`). Returns 0, or a negative errno.
int cairn_fuse_serve(void *session, int threads);

/// Detaches the mount (as `umount -l` does) so that `cairn_fuse_serve` returns; safe from any thread.
int cairn_fuse_detach(const char *mountpoint);

/// Unmounts (when still mounted) and frees the session.
void cairn_fuse_destroy(void *session);

#endif
