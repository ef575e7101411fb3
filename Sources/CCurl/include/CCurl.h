#ifndef CAIRN_CURL_H
#define CAIRN_CURL_H
// libcurl's easy interface for the S3 transport, loaded on first use (dlopen of libcurl.so.4;
// Docs/architecture.md, "Libraries loaded on first use"): every `cairn` process would otherwise
// load libcurl and the 20-odd libraries it needs at start. The header gives the types and
// constants; the functions are the cairn_ wrappers below, each calling libcurl through the
// address the loader resolved. curl_easy_setopt and curl_easy_getinfo are variadic, which
// Swift cannot call: one typed wrapper per kind of argument.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef size_t (*cairn_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*cairn_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/// Loads libcurl and calls curl_global_init, once per process (thread-safe). Returns NULL when
/// libcurl is usable, else one line naming the library and the package to install. Every other
/// function here may be called only after it returned NULL.
const char *cairn_curl_load(void);

CURL *cairn_curl_easy_init(void);
void cairn_curl_easy_cleanup(CURL *h);
void cairn_curl_easy_reset(CURL *h);
CURLcode cairn_curl_easy_perform(CURL *h);
const char *cairn_curl_easy_strerror(CURLcode code);
struct curl_slist *cairn_curl_slist_append(struct curl_slist *list, const char *line);
void cairn_curl_slist_free_all(struct curl_slist *list);

CURLcode cairn_curl_set_long(CURL *h, CURLoption option, long value);
CURLcode cairn_curl_set_pointer(CURL *h, CURLoption option, const void *value);
CURLcode cairn_curl_set_data_callback(CURL *h, CURLoption option, cairn_curl_data_callback f);
CURLcode cairn_curl_set_progress_callback(CURL *h, cairn_curl_progress_callback f);
/// The last response's status code, or 0.
long cairn_curl_response_code(CURL *h);

#endif
