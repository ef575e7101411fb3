#include "CLinuxShims.h"
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* scrypt (N=2^15, r=8) walks a 32 MiB buffer at random: with 4 KiB pages most
   of its reads miss the TLB, ~12 of its ~68 ms on the machines measured.
   OpenSSL allocates that buffer itself, so the only way to put it on huge
   pages is OpenSSL's allocator hook: blocks of 4 MiB and more (only the KDF's
   asks that much) get their own 2 MiB-aligned mapping, marked MADV_HUGEPAGE
   (honoured where transparent huge pages are "madvise" or "always"; a no-op
   where "never"). Everything else goes to malloc, as without the hook. */

#define LARGE_BLOCK (4u << 20)
#define HUGE_PAGE (2u << 20)
#define SLOTS 8

struct large_block { void *ptr; void *base; size_t size; size_t total; };
static struct large_block blocks[SLOTS];
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;

static void *hooked_malloc(size_t size, const char *file, int line) {
    (void)file; (void)line;
    if (size < LARGE_BLOCK) return malloc(size);
    size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    size_t total = rounded + HUGE_PAGE;
    void *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return malloc(size);
    void *ptr = (void *)(((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    (void)madvise(ptr, rounded, MADV_HUGEPAGE);
#ifdef MADV_DONTDUMP
    /* The KDF's working memory is derived from the passphrase: never in a core dump. */
    (void)madvise(ptr, rounded, MADV_DONTDUMP);
#endif
    pthread_mutex_lock(&blocks_lock);
    for (int i = 0; i < SLOTS; i++) {
        if (blocks[i].ptr == NULL) {
            blocks[i] = (struct large_block){ ptr, base, size, total };
            pthread_mutex_unlock(&blocks_lock);
            return ptr;
        }
    }
    pthread_mutex_unlock(&blocks_lock);
    munmap(base, total);
    return malloc(size);
}

/* Removes `ptr` from the table; returns 1 and its entry if it was ours. */
static int take_large(void *ptr, struct large_block *out) {
    /* Ours are 2 MiB-aligned; checking that first keeps the lock off the
       frees of OpenSSL's small allocations. */
    if (ptr == NULL || ((uintptr_t)ptr & (HUGE_PAGE - 1)) != 0) return 0;
    pthread_mutex_lock(&blocks_lock);
    for (int i = 0; i < SLOTS; i++) {
        if (blocks[i].ptr == ptr) {
            *out = blocks[i];
            blocks[i].ptr = NULL;
            pthread_mutex_unlock(&blocks_lock);
            return 1;
        }
    }
    pthread_mutex_unlock(&blocks_lock);
    return 0;
}

static void hooked_free(void *ptr, const char *file, int line) {
    (void)file; (void)line;
    struct large_block b;
    if (take_large(ptr, &b)) {
        /* OPENSSL_clear_free has already wiped it where that matters. */
        munmap(b.base, b.total);
        return;
    }
    free(ptr);
}

static void *hooked_realloc(void *ptr, size_t size, const char *file, int line) {
    struct large_block b;
    if (!take_large(ptr, &b)) return realloc(ptr, size);
    void *moved = hooked_malloc(size, file, line);
    if (moved == NULL) {
        /* Put it back: realloc failing leaves the old block valid. */
        pthread_mutex_lock(&blocks_lock);
        for (int i = 0; i < SLOTS; i++) if (blocks[i].ptr == NULL) { blocks[i] = b; break; }
        pthread_mutex_unlock(&blocks_lock);
        return NULL;
    }
    memcpy(moved, ptr, b.size < size ? b.size : size);
    munmap(b.base, b.total);
    return moved;
}

int cairn_openssl_use_huge_pages(void) {
    return CRYPTO_set_mem_functions(hooked_malloc, hooked_realloc, hooked_free);
}
