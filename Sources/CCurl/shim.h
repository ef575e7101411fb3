// libcurl's easy interface for the S3 transport. curl_easy_setopt and
// curl_easy_getinfo are variadic, which Swift cannot call: one typed
// wrapper per kind of argument.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef size_t (*cairn_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*cairn_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode cairn_curl_set_long(CURL *h, CURLoption option, long value) { return curl_easy_setopt(h, option, value); }
static inline CURLcode cairn_curl_set_pointer(CURL *h, CURLoption option, const void *value) { return curl_easy_setopt(h, option, value); }
static inline CURLcode cairn_curl_set_data_callback(CURL *h, CURLoption option, cairn_curl_data_callback f) { return curl_easy_setopt(h, option, f); }
static inline CURLcode cairn_curl_set_progress_callback(CURL *h, cairn_curl_progress_callback f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
static inline long cairn_curl_response_code(CURL *h) {
    long code = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
    return code;
}
static inline CURLcode cairn_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_ALL); }
