/* The restore path uses SHA256_Init/Update/Final (HMAC pad states computed once,
 * one-shot digests without OpenSSL 3's per-call algorithm fetch); they are
 * deprecated in 3.0 but present, so the deprecation attributes are dropped here. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
