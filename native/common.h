// Declarations shared by the translation units of the mp_shm native addon.
#ifndef MP_SHM_COMMON_H
#define MP_SHM_COMMON_H

// The addon needs memfd_create, MAP_FIXED overlays and process-shared futexes: Linux only. On
// another OS the build stops here; `npm install` still succeeds and the loader reports why.
#if !defined(__linux__)
#error "mp_shm is Linux-only (memfd_create, process-shared futexes): the library uses its broker"
#endif

#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

// Every exported function starts with this: on a failed Node-API call, throw and return NULL.
#define NAPI_CALL(env, call)                                                         \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      mp_throw_napi((env), #call);                                                   \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

/** Largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER). */
#define kMaxSafeInteger 9007199254740991.0

/** Throws a plain Error naming the Node-API call that failed (an addon bug, not a user error). */
void mp_throw_napi(napi_env env, const char* call);

/** Throws an Error with `code` and a message from `fmt` (a refusal: no system call failed). */
void mp_throw_code(napi_env env, const char* code, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Throws an Error with `code`, `errno` (negative, as Node's system errors) and `syscall`. */
void mp_throw_sys(napi_env env, const char* code, int err, const char* syscall, const char* fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/** Reads argument `name` of `fn` as an integer in [min, max]; throws TypeError/RangeError. */
bool mp_get_integer(napi_env env, napi_value v, const char* fn, const char* name, double min,
                    double max, double* out);

/** Reads an optional timeout in ms: undefined, NaN or Infinity is forever, a negative is 0. */
bool mp_get_timeout(napi_env env, napi_value v, const char* fn, bool* forever, double* ms);

/**
 * Reads a typed array of `type` and returns its data pointer and byte length; throws a
 * TypeError naming the argument otherwise.
 */
bool mp_get_view(napi_env env, napi_value v, const char* fn, const char* name,
                 napi_typedarray_type type, void** data, size_t* bytes);

/** Turns `ms` from now into an absolute CLOCK_MONOTONIC deadline (`forever` when too far). */
void mp_deadline(double ms, bool* forever, struct timespec* deadline);

/** Wait results, as numbers for JS: 0 'ok', 1 'not-equal', 2 'timed-out', 3 cancelled. */
enum { kWaitOk = 0, kWaitNotEqual = 1, kWaitTimedOut = 2, kWaitCancelled = 3 };

/** The futex system call (no glibc wrapper); returns -1 with errno on failure. */
long mp_futex(void* addr, int op, int32_t val, const struct timespec* ts, uint32_t bitset);

/**
 * Sleeps on the process-shared word `addr` while it holds `expected`, until `deadline` (absolute
 * CLOCK_MONOTONIC, NULL: forever): kWaitOk, kWaitNotEqual, kWaitTimedOut or -errno.
 */
int mp_wait_shared(int32_t* addr, int32_t expected, const struct timespec* deadline);

/** Registers futexWait and futexWake on `exports`. */
bool mp_futex_init(napi_env env, napi_value exports);

/** Registers the async waits on `exports` and sets up this env's waiter threads. */
bool mp_waiters_init(napi_env env, napi_value exports);

#endif
