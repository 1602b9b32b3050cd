// Process-shared futex wait/wake on mapped segments, blocking the calling thread.

// Every wait here omits FUTEX_PRIVATE_FLAG: on a MAP_SHARED mapping the kernel then keys the
// word by (file, offset), so a wake in one process reaches a waiter in another. V8's
// Atomics.wait/notify keep their waiters in a per-process list and never meet these.
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

long mp_futex(void* addr, int op, int32_t val, const struct timespec* ts, uint32_t bitset) {
  // syscall(SYS_futex): glibc has no wrapper; the second address (uaddr2) is unused here.
  return syscall(SYS_futex, addr, op, val, ts, NULL, bitset);
}

int mp_wait_shared(int32_t* addr, int32_t expected, const struct timespec* deadline) {
  for (;;) {
    // FUTEX_WAIT_BITSET (shared, absolute CLOCK_MONOTONIC deadline, NULL: forever): the kernel
    // compares *addr with expected and sleeps in one step, so no wake in between is lost.
    if (mp_futex(addr, FUTEX_WAIT_BITSET, expected, deadline, FUTEX_BITSET_MATCH_ANY) == 0)
      return kWaitOk;
    if (errno == EAGAIN) return kWaitNotEqual;
    if (errno == ETIMEDOUT) return kWaitTimedOut;
    if (errno != EINTR) return -errno;  // EINTR: a signal; wait again for the same deadline
  }
}

/** futexWait(i32, index, expected, ms) → 0 'ok', 1 'not-equal', 2 'timed-out'; blocks the thread. */
static napi_value FutexWait(napi_env env, napi_callback_info info) {
  static const char fn[] = "futexWait";
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* data;
  size_t bytes;
  double index, expected, ms;
  bool forever;
  struct timespec deadline;
  if (!mp_get_view(env, argv[0], fn, "i32", napi_int32_array, &data, &bytes) ||
      !mp_get_integer(env, argv[1], fn, "index", 0, bytes / 4 - 1.0, &index) ||
      !mp_get_integer(env, argv[2], fn, "expected", INT32_MIN, UINT32_MAX, &expected) ||
      !mp_get_timeout(env, argv[3], fn, &forever, &ms))
    return NULL;
  mp_deadline(ms, &forever, &deadline);
  int r = mp_wait_shared((int32_t*)data + (size_t)index, (int32_t)(uint32_t)(int64_t)expected,
                         forever ? NULL : &deadline);
  if (r < 0) {
    mp_throw_sys(env, "ERR_SHM_SYSCALL", -r, "futex", "%s", fn);
    return NULL;
  }
  napi_value out;
  NAPI_CALL(env, napi_create_int32(env, r, &out));
  return out;
}

/** futexWake(i32, index, count = all) → how many waiters, in any process, were woken. */
static napi_value FutexWake(napi_env env, napi_callback_info info) {
  static const char fn[] = "futexWake";
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* data;
  size_t bytes;
  double index, count = INT_MAX;
  if (!mp_get_view(env, argv[0], fn, "i32", napi_int32_array, &data, &bytes) ||
      !mp_get_integer(env, argv[1], fn, "index", 0, bytes / 4 - 1.0, &index))
    return NULL;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, argv[2], &t);
  if (t != napi_undefined) {
    if (t != napi_number) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "futexWake: \"count\" must be a number");
      return NULL;
    }
    // As Atomics.notify: Infinity wakes all, NaN or a negative count wakes none.
    napi_get_value_double(env, argv[2], &count);
    count = count > INT_MAX ? INT_MAX : count >= 1 ? (double)(long)count : 0;
  }
  // FUTEX_WAKE (shared): wakes up to `count` sleepers on this word, in every process mapping it.
  long r = mp_futex((int32_t*)data + (size_t)index, FUTEX_WAKE, (int32_t)count, NULL, 0);
  if (r < 0) {
    mp_throw_sys(env, "ERR_SHM_SYSCALL", errno, "futex", "%s", fn);
    return NULL;
  }
  napi_value out;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)r, &out));
  return out;
}

bool mp_futex_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"futexWait", NULL, FutexWait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"futexWake", NULL, FutexWake, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 2, props) == napi_ok;
}
