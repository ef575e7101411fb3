// The libfuse 3 high-level API behind a few plain C functions: libfuse's entry points are
// versioned macros (fuse_new, fuse_loop_mt) that Swift cannot call. libfuse3 is loaded on first
// use (dlopen of libfuse3.so.3; Docs/architecture.md, "Libraries loaded on first use"), binding
// the symbol versions a link against this header binds (fuse_new@FUSE_3.1, fuse_loop_mt@FUSE_3.2).
#define FUSE_USE_VERSION 35
#include <fuse3/fuse.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "CFuseShim.h"
#include "CLazyLoad.h"

static struct {
    struct fuse_context *(*get_context)(void);
    struct fuse *(*new_31)(struct fuse_args *args, const struct fuse_operations *op, size_t op_size, void *private_data);
    int (*mount)(struct fuse *f, const char *mountpoint);
    void (*unmount)(struct fuse *f);
    void (*destroy)(struct fuse *f);
    int (*loop)(struct fuse *f);
    int (*loop_mt_32)(struct fuse *f, struct fuse_loop_config *config);
} fn;

static const struct cairn_lazy_symbol symbols[] = {
    { "fuse_get_context", NULL, (void **)&fn.get_context },
    { "fuse_new", "FUSE_3.1", (void **)&fn.new_31 },
    { "fuse_mount", NULL, (void **)&fn.mount },
    { "fuse_unmount", NULL, (void **)&fn.unmount },
    { "fuse_destroy", NULL, (void **)&fn.destroy },
    { "fuse_loop", NULL, (void **)&fn.loop },
    { "fuse_loop_mt", "FUSE_3.2", (void **)&fn.loop_mt_32 },
};

static struct cairn_lazy_library library = CAIRN_LAZY_LIBRARY(
    "libfuse3.so.3", "cairn mount",
    "fuse3 and libfuse3-3 (Debian, Ubuntu: apt-get install fuse3) or fuse3 and fuse3-libs (Fedora)", symbols);

const char *cairn_fuse_load(void) { return cairn_lazy_load(&library); }

struct cairn_fuse_session {
    struct fuse *fuse;
    struct cairn_fuse_callbacks callbacks;
    double cache_seconds;
};

static struct cairn_fuse_session *current_session(void) {
    return (struct cairn_fuse_session *)fn.get_context()->private_data;
}

static void *shim_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    (void)conn;
    struct cairn_fuse_session *s = current_session();
    // Snapshots never change: the kernel may keep names, attributes and pages.
    cfg->entry_timeout = s->cache_seconds;
    cfg->attr_timeout = s->cache_seconds;
    cfg->negative_timeout = s->cache_seconds;
    cfg->kernel_cache = 1;
    cfg->use_ino = 0;
    return s;
}

static int shim_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    (void)fi;
    struct cairn_fuse_session *s = current_session();
    memset(st, 0, sizeof *st);
    return s->callbacks.getattr(s->callbacks.context, path, st);
}

struct fill_state {
    void *buffer;
    fuse_fill_dir_t filler;
};

static int shim_fill(void *state, const char *name, const struct stat *st) {
    struct fill_state *f = state;
    return f->filler(f->buffer, name, st, 0, 0);
}

static int shim_readdir(const char *path, void *buffer, fuse_fill_dir_t filler, off_t offset,
                        struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)offset; (void)fi; (void)flags;
    struct cairn_fuse_session *s = current_session();
    struct fill_state f = { buffer, filler };
    return s->callbacks.readdir(s->callbacks.context, path, &f, shim_fill);
}

static int shim_readlink(const char *path, char *buffer, size_t size) {
    struct cairn_fuse_session *s = current_session();
    return s->callbacks.readlink(s->callbacks.context, path, buffer, size);
}

static int shim_open(const char *path, struct fuse_file_info *fi) {
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
    struct cairn_fuse_session *s = current_session();
    uint64_t handle = 0;
    int r = s->callbacks.open(s->callbacks.context, path, &handle);
    if (r == 0) {
        fi->fh = handle;
        fi->keep_cache = 1;
    }
    return r;
}

static int shim_read(const char *path, char *buffer, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)path;
    struct cairn_fuse_session *s = current_session();
    return s->callbacks.read(s->callbacks.context, fi->fh, buffer, size, (int64_t)offset);
}

static int shim_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    struct cairn_fuse_session *s = current_session();
    return s->callbacks.release(s->callbacks.context, fi->fh);
}

static const struct fuse_operations shim_operations = {
    .init = shim_init,
    .getattr = shim_getattr,
    .readdir = shim_readdir,
    .readlink = shim_readlink,
    .open = shim_open,
    .read = shim_read,
    .release = shim_release,
};

void *cairn_fuse_mount(const char *mountpoint, const struct cairn_fuse_callbacks *callbacks,
                       const char *fsname, int allow_other, double cache_seconds,
                       char *error, size_t error_size) {
    const char *unavailable = cairn_fuse_load();
    if (unavailable) { snprintf(error, error_size, "%s", unavailable); return NULL; }
    struct cairn_fuse_session *s = calloc(1, sizeof *s);
    if (!s) { snprintf(error, error_size, "out of memory"); return NULL; }
    s->callbacks = *callbacks;
    s->cache_seconds = cache_seconds;
    char options[512];
    snprintf(options, sizeof options, "ro,default_permissions,fsname=%s,subtype=cairn%s", fsname,
             allow_other ? ",allow_other" : "");
    char *argv[] = { "cairn", "-o", options, NULL };
    struct fuse_args args = FUSE_ARGS_INIT(3, argv);
    s->fuse = fn.new_31(&args, &shim_operations, sizeof shim_operations, s);
    if (!s->fuse) {
        snprintf(error, error_size, "libfuse refused the mount options");
        free(s);
        return NULL;
    }
    if (fn.mount(s->fuse, mountpoint) != 0) {
        int e = errno;
        snprintf(error, error_size, "%s", e ? strerror(e) : "the kernel refused the mount");
        fn.destroy(s->fuse);
        free(s);
        return NULL;
    }
    return s;
}

int cairn_fuse_serve(void *session, int threads) {
    struct cairn_fuse_session *s = session;
    if (threads <= 1) return fn.loop(s->fuse);
    struct fuse_loop_config config = { .clone_fd = 0, .max_idle_threads = (unsigned)threads };
    return fn.loop_mt_32(s->fuse, &config);
}

int cairn_fuse_detach(const char *mountpoint) {
    if (umount2(mountpoint, MNT_DETACH) == 0) return 0;
    int e = errno;
    if (e != EPERM) return -e;
    // Not root: the setuid helper unmounts mounts its user made.
    pid_t pid = fork();
    if (pid == 0) {
        execlp("fusermount3", "fusermount3", "-u", "-z", "-q", mountpoint, (char *)NULL);
        execlp("fusermount", "fusermount", "-u", "-z", "-q", mountpoint, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) return -errno;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

void cairn_fuse_destroy(void *session) {
    struct cairn_fuse_session *s = session;
    fn.unmount(s->fuse);
    fn.destroy(s->fuse);
    free(s);
}
