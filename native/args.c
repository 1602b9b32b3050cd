// Errors with codes, argument readers: the checks every exported function of the addon starts with.
#include "common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mp_throw_napi(napi_env env, const char* call) {
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;  // a JS exception already explains it
  char msg[256];
  snprintf(msg, sizeof msg, "mp_shm: %s failed: %s", call,
           info && info->error_message ? info->error_message : "unknown error");
  napi_throw_error(env, "ERR_SHM_INTERNAL", msg);
}

/** Throws an Error with `code` and `msg`; `err` and `syscall` become properties when set. */
static void throw_error(napi_env env, const char* code, const char* msg, int err,
                        const char* syscall) {
  napi_value m, c, error, v;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok ||
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c) != napi_ok ||
      napi_create_error(env, c, m, &error) != napi_ok)
    return;
  if (syscall) {
    napi_create_int32(env, -err, &v);
    napi_set_named_property(env, error, "errno", v);
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, error, "syscall", v);
  }
  napi_throw(env, error);
}

void mp_throw_code(napi_env env, const char* code, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  throw_error(env, code, msg, 0, NULL);
}

void mp_throw_sys(napi_env env, const char* code, int err, const char* syscall, const char* fmt,
                  ...) {
  char head[384], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s: %s (%s)", head, strerror(err), syscall);
  throw_error(env, code, msg, err, syscall);
}

bool mp_get_integer(napi_env env, napi_value v, const char* fn, const char* name, double min,
                    double max, double* out) {
  char msg[256];
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "%s: \"%s\" must be a number (got a %s)", fn, name,
             t == napi_undefined ? "missing value" : t == napi_string ? "string" : "non-number");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  double d = NAN;
  napi_get_value_double(env, v, &d);
  if (!(d >= min && d <= max) || d != floor(d)) {
    snprintf(msg, sizeof msg, "%s: \"%s\" must be an integer from %.0f to %.0f (got %g)", fn, name,
             min, max, d);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = d;
  return true;
}

bool mp_get_timeout(napi_env env, napi_value v, const char* fn, bool* forever, double* ms) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  *forever = true;
  *ms = INFINITY;
  if (t == napi_undefined) return true;
  if (t != napi_number) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: \"timeout\" must be a number of milliseconds or undefined", fn);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  napi_get_value_double(env, v, ms);
  // As Atomics.wait: NaN and +Infinity wait forever, a negative timeout does not wait.
  if (isnan(*ms) || isinf(*ms)) return true;
  *forever = false;
  if (*ms < 0) *ms = 0;
  return true;
}

bool mp_get_view(napi_env env, napi_value v, const char* fn, const char* name,
                 napi_typedarray_type type, void** data, size_t* bytes) {
  bool is_ta = false;
  napi_typedarray_type t = napi_int8_array;
  size_t length = 0, offset = 0;
  napi_value buffer;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) napi_get_typedarray_info(env, v, &t, &length, data, &buffer, &offset);
  if (!is_ta || t != type) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: \"%s\" must be an %s", fn, name,
             type == napi_int32_array ? "Int32Array" : "Uint8Array");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  *bytes = length * (type == napi_int32_array ? 4 : 1);
  return true;
}

void mp_deadline(double ms, bool* forever, struct timespec* deadline) {
  // Past ~30 000 years the deadline would overflow time_t arithmetic: that is forever.
  if (*forever || ms > 1e15) {
    *forever = true;
    return;
  }
  // clock_gettime(CLOCK_MONOTONIC): the clock FUTEX_WAIT_BITSET and futex_waitv measure
  // absolute deadlines on; immune to wall-clock jumps.
  clock_gettime(CLOCK_MONOTONIC, deadline);
  long long ns = (long long)(ms * 1e6) + deadline->tv_nsec;
  deadline->tv_sec += (time_t)(ns / 1000000000LL);
  deadline->tv_nsec = (long)(ns % 1000000000LL);
}
