// libcurl through dlopen: the addresses of the functions cairn calls, resolved on first use.
#include "CCurl.h"
#include "CLazyLoad.h"

#include <pthread.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_perform)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
} fn;

static const struct cairn_lazy_symbol symbols[] = {
    { "curl_global_init", NULL, (void **)&fn.global_init },
    { "curl_easy_init", NULL, (void **)&fn.easy_init },
    { "curl_easy_cleanup", NULL, (void **)&fn.easy_cleanup },
    { "curl_easy_reset", NULL, (void **)&fn.easy_reset },
    { "curl_easy_perform", NULL, (void **)&fn.easy_perform },
    { "curl_easy_strerror", NULL, (void **)&fn.easy_strerror },
    { "curl_easy_setopt", NULL, (void **)&fn.easy_setopt },
    { "curl_easy_getinfo", NULL, (void **)&fn.easy_getinfo },
    { "curl_slist_append", NULL, (void **)&fn.slist_append },
    { "curl_slist_free_all", NULL, (void **)&fn.slist_free_all },
};

static struct cairn_lazy_library library = CAIRN_LAZY_LIBRARY(
    "libcurl.so.4", "S3 repositories",
    "libcurl4 (Debian, Ubuntu: apt-get install libcurl4) or libcurl (Fedora)", symbols);

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;
static CURLcode global_init_result = CURLE_FAILED_INIT;

static void global_init(void) { global_init_result = fn.global_init(CURL_GLOBAL_ALL); }

const char *cairn_curl_load(void) {
    const char *reason = cairn_lazy_load(&library);
    if (reason) return reason;
    // curl_global_init is not thread-safe in older libcurls: once, after the load.
    pthread_once(&global_init_once, global_init);
    return global_init_result == CURLE_OK ? NULL : "libcurl.so.4 was loaded but curl_global_init failed (out of memory, or its TLS library could not start)";
}

CURL *cairn_curl_easy_init(void) { return fn.easy_init(); }
void cairn_curl_easy_cleanup(CURL *h) { fn.easy_cleanup(h); }
void cairn_curl_easy_reset(CURL *h) { fn.easy_reset(h); }
CURLcode cairn_curl_easy_perform(CURL *h) { return fn.easy_perform(h); }
const char *cairn_curl_easy_strerror(CURLcode code) { return fn.easy_strerror(code); }
struct curl_slist *cairn_curl_slist_append(struct curl_slist *list, const char *line) { return fn.slist_append(list, line); }
void cairn_curl_slist_free_all(struct curl_slist *list) { fn.slist_free_all(list); }

CURLcode cairn_curl_set_long(CURL *h, CURLoption option, long value) { return fn.easy_setopt(h, option, value); }
CURLcode cairn_curl_set_pointer(CURL *h, CURLoption option, const void *value) { return fn.easy_setopt(h, option, value); }
CURLcode cairn_curl_set_data_callback(CURL *h, CURLoption option, cairn_curl_data_callback f) { return fn.easy_setopt(h, option, f); }
CURLcode cairn_curl_set_progress_callback(CURL *h, cairn_curl_progress_callback f) { return fn.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }

long cairn_curl_response_code(CURL *h) {
    long code = 0;
    if (fn.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
    return code;
}
