#include "CLinuxShims.h"
#if defined(__GLIBC__)
#include <malloc.h>
void cairn_set_malloc_trim_threshold(int bytes) { mallopt(M_TRIM_THRESHOLD, bytes); }
void cairn_set_malloc_mmap_threshold(int bytes) { mallopt(M_MMAP_THRESHOLD, bytes); }
#else
void cairn_set_malloc_mmap_threshold(int bytes) { (void)bytes; }
void cairn_set_malloc_trim_threshold(int bytes) { (void)bytes; }
#endif
