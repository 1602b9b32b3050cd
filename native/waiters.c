// Async futex waits served by the addon's own threads, settled through a thread-safe function.

// Async waits run on addon-owned threads, never libuv's pool (four waits parked there stall every
// fs call of the process). A thread serves one wait at a time and parks on a private word of
// its own between waits; idle threads are reused, a few are kept. Results come back through one
// thread-safe function per env, ref'd only while some wait is pending so an idle process exits.
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449  // the same number on every architecture (Linux 5.16+)
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif

/** One entry of futex_waitv's vector (declared here: older kernel headers lack it). */
struct mp_futex_waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

// A waiter's control word: written by the JS thread (go, cancel, idle, exit) and by the waiter
// thread (done); the thread parks on it with a private futex.
enum { kIdle = 0, kGo = 1, kCancel = 2, kDone = 3, kExit = 4 };

/** Pending async waits allowed per env (each holds a thread). */
#define kMaxWaits 1024
/** Idle waiter threads kept per env for reuse; more are ended when their wait completes. */
#define kMaxIdle 4

typedef struct Env Env;
typedef struct Waiter Waiter;

struct Waiter {
  Env* env;
  pthread_t thread;
  uint32_t ctl;  // kIdle..kExit, accessed with __atomic builtins
  // The request: written by the JS thread before it stores kGo.
  int32_t* addr;
  int32_t expected;
  bool forever;
  struct timespec deadline;
  // The answer: written by the waiter thread before it stores kDone (negative: -errno).
  int result;
  // JS-thread bookkeeping.
  double id;
  napi_deferred deferred;
  napi_ref keep;  // the Int32Array, so its memory stays mapped while the thread waits on it
  Waiter* next;
};

struct Env {
  napi_threadsafe_function tsfn;
  Waiter* idle;  // parked threads
  Waiter* busy;  // threads serving a wait (pending, or done and not yet delivered)
  unsigned n_idle, n_busy;
  double next_id;
};

/** Whether futex_waitv works here (Linux 5.16+, not filtered by seccomp): probed once. */
static int g_waitv = -1;
/** Waiter threads alive in the whole process, all envs together (for tests and stats). */
static unsigned g_threads = 0;

static uint32_t load(uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static bool cas(uint32_t* p, uint32_t from, uint32_t to) {
  return __atomic_compare_exchange_n(p, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/** Wakes a thread parked on its own control word (FUTEX_WAKE_PRIVATE: this process only). */
static void wake_ctl(Waiter* w) { mp_futex(&w->ctl, FUTEX_WAKE_PRIVATE, 1, NULL, 0); }

/** The waiter thread's wait: on the shared word and, with futex_waitv, on its own control word. */
static int serve(Waiter* w) {
  const struct timespec* deadline = w->forever ? NULL : &w->deadline;
  if (!g_waitv) {
    int r = mp_wait_shared(w->addr, w->expected, deadline);
    // Without futex_waitv a cancel wakes the shared word itself (see CancelWait).
    return load(&w->ctl) != kGo && r != kWaitTimedOut ? kWaitCancelled : r;
  }
  struct mp_futex_waitv v[2] = {
      {(uint32_t)w->expected, (uintptr_t)w->addr, FUTEX_32, 0},               // shared
      {kGo, (uintptr_t)&w->ctl, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},            // cancel/exit
  };
  for (;;) {
    // futex_waitv: sleeps until either word is woken or differs from its value, so a cancel
    // (ctl leaves kGo) reaches exactly this thread. Returns the index of the woken word.
    long r = syscall(SYS_futex_waitv, v, 2, 0, deadline, CLOCK_MONOTONIC);
    if (r == 0) return kWaitOk;  // a real wake wins even if a cancel came too
    if (r == 1) return kWaitCancelled;
    if (errno == EAGAIN) return load(&w->ctl) != kGo ? kWaitCancelled : kWaitNotEqual;
    if (errno == ETIMEDOUT) return kWaitTimedOut;
    if (errno != EINTR) return -errno;
  }
}

static void* waiter_main(void* arg) {
  Waiter* w = arg;
  for (;;) {
    uint32_t c;
    // FUTEX_WAIT_PRIVATE on ctl: park until the JS thread posts a wait, a cancel or an exit.
    while ((c = load(&w->ctl)) == kIdle || c == kDone)
      mp_futex(&w->ctl, FUTEX_WAIT_PRIVATE, (int32_t)c, NULL, 0);
    if (c == kExit) break;
    int r = c == kCancel ? kWaitCancelled : serve(w);
    // Publish the result with kDone, unless the env is going away (kExit): then just end.
    for (;;) {
      c = load(&w->ctl);
      if (c == kExit) goto out;
      w->result = r;
      if (cas(&w->ctl, c, kDone)) break;
    }
    // napi_call_threadsafe_function: queues the delivery to the JS thread (never blocks: the
    // queue is unbounded); fails harmlessly with napi_closing during teardown.
    napi_call_threadsafe_function(w->env->tsfn, w, napi_tsfn_nonblocking);
  }
out:
  __atomic_sub_fetch(&g_threads, 1, __ATOMIC_RELAXED);
  return NULL;
}

/** Starts a waiter thread for `w` (ctl already set): 0, or pthread_create's error number. */
static int start_thread(Waiter* w) {
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_attr_init(&attr);
  // A small stack: the thread only makes syscalls. PTHREAD_STACK_MIN is larger on some arm64.
  size_t stack = 64 * 1024;
  if (stack < (size_t)PTHREAD_STACK_MIN) stack = PTHREAD_STACK_MIN;
  pthread_attr_setstacksize(&attr, stack);
  // pthread_sigmask: the thread inherits a mask blocking every signal, so process signals are
  // handled by Node's threads and never interrupt a wait here.
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&w->thread, &attr, waiter_main, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (err == 0) {
    __atomic_add_fetch(&g_threads, 1, __ATOMIC_RELAXED);
    // pthread_setname_np: names the thread in /proc/<pid>/task/*/comm, top and gdb.
    pthread_setname_np(w->thread, "mp-shm-waiter");
  }
  return err;
}

/** Tells `w`'s thread to end and joins it (JS thread; the thread is parked or about to be). */
static void end_thread(Waiter* w) {
  uint32_t prev = __atomic_exchange_n(&w->ctl, kExit, __ATOMIC_ACQ_REL);
  wake_ctl(w);
  if (prev == kGo && !g_waitv) {
    // Sleeping on the shared word: wake it until the thread has left (pthread_tryjoin_np). The
    // word's memory is still mapped: the napi_ref to its Int32Array is released later.
    while (pthread_tryjoin_np(w->thread, NULL) == EBUSY) {
      mp_futex(w->addr, FUTEX_WAKE, INT_MAX, NULL, 0);
      sched_yield();
    }
    return;
  }
  pthread_join(w->thread, NULL);
}

static Env* env_of(napi_env env) {
  void* data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static void unlink_busy(Env* e, Waiter* w) {
  for (Waiter** p = &e->busy; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      return;
    }
}

/** Delivers a finished wait on the JS thread: settles its promise, then parks or ends its thread. */
static void on_done(napi_env env, napi_value js_cb, void* context, void* data) {
  if (env == NULL) return;  // the tsfn is being torn down: teardown() owns every waiter
  Env* e = context;
  Waiter* w = data;
  unlink_busy(e, w);
  napi_value v;
  if (w->result >= 0) {
    napi_create_int32(env, w->result, &v);
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    napi_value code, msg;
    napi_create_string_utf8(env, "ERR_SHM_SYSCALL", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(-w->result), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &v);
    napi_reject_deferred(env, w->deferred, v);
  }
  napi_delete_reference(env, w->keep);
  // napi_unref_threadsafe_function: nothing is pending, so this env's loop may end.
  if (--e->n_busy == 0) napi_unref_threadsafe_function(env, e->tsfn);
  if (e->n_idle < kMaxIdle) {
    store(&w->ctl, kIdle);  // no wake: the thread sleeps on kDone or kIdle alike
    w->next = e->idle;
    e->idle = w;
    e->n_idle++;
  } else {
    end_thread(w);
    free(w);
  }
}

/** futexWaitAsync(i32, index, expected, ms) → { id, promise }: promise of 0/1/2, or 3 if cancelled. */
static napi_value FutexWaitAsync(napi_env env, napi_callback_info info) {
  static const char fn[] = "futexWaitAsync";
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Env* e = env_of(env);
  void* data;
  size_t bytes;
  double index, expected, ms;
  bool forever;
  if (!mp_get_view(env, argv[0], fn, "i32", napi_int32_array, &data, &bytes) ||
      !mp_get_integer(env, argv[1], fn, "index", 0, bytes / 4 - 1.0, &index) ||
      !mp_get_integer(env, argv[2], fn, "expected", INT32_MIN, UINT32_MAX, &expected) ||
      !mp_get_timeout(env, argv[3], fn, &forever, &ms))
    return NULL;
  int32_t* addr = (int32_t*)data + (size_t)index;
  int32_t want = (int32_t)(uint32_t)(int64_t)expected;
  napi_value promise, out, idv;
  napi_deferred deferred;
  NAPI_CALL(env, napi_create_promise(env, &deferred, &promise));
  NAPI_CALL(env, napi_create_object(env, &out));
  NAPI_CALL(env, napi_set_named_property(env, out, "promise", promise));
  double id = 0;
  // Settled without a thread, as Atomics.waitAsync: a different value, or no time to wait.
  int now = __atomic_load_n(addr, __ATOMIC_SEQ_CST) != want ? kWaitNotEqual
            : !forever && ms == 0                            ? kWaitTimedOut
                                                             : -1;
  if (now < 0 && e->n_busy >= kMaxWaits) {
    mp_throw_code(env, "ERR_SHM_TOO_MANY_WAITS",
                 "%s: %d async waits are already pending in this thread", fn, kMaxWaits);
    return NULL;
  }
  if (now >= 0) {
    napi_value v;
    NAPI_CALL(env, napi_create_int32(env, now, &v));
    NAPI_CALL(env, napi_resolve_deferred(env, deferred, v));
  } else {
    Waiter* w = e->idle;
    bool fresh = w == NULL;
    if (fresh) {
      w = calloc(1, sizeof *w);
      if (!w) {
        mp_throw_sys(env, "ERR_SHM_SYSCALL", ENOMEM, "calloc", "%s", fn);
        return NULL;
      }
      w->env = e;
    }
    w->addr = addr;
    w->expected = want;
    w->forever = forever;
    mp_deadline(ms, &w->forever, &w->deadline);  // the deadline runs from the call, not the thread
    w->deferred = deferred;
    w->id = id = ++e->next_id;
    NAPI_CALL(env, napi_create_reference(env, argv[0], 1, &w->keep));
    if (fresh) {
      w->ctl = kGo;  // pthread_create publishes the request to the new thread
      int err = start_thread(w);
      if (err != 0) {
        napi_delete_reference(env, w->keep);
        free(w);
        mp_throw_sys(env, "ERR_SHM_SYSCALL", err, "pthread_create", "%s: no waiter thread", fn);
        return NULL;
      }
    } else {
      e->idle = w->next;
      e->n_idle--;
      store(&w->ctl, kGo);  // release: the thread reads the request after seeing kGo
      wake_ctl(w);
    }
    w->next = e->busy;
    e->busy = w;
    // napi_ref_threadsafe_function: a pending wait keeps the loop alive, like a pending timer.
    if (e->n_busy++ == 0) NAPI_CALL(env, napi_ref_threadsafe_function(env, e->tsfn));
  }
  NAPI_CALL(env, napi_create_double(env, id, &idv));
  NAPI_CALL(env, napi_set_named_property(env, out, "id", idv));
  return out;
}

/** cancelWait(id) → whether a pending wait was told to stop (its promise then settles with 3). */
static napi_value CancelWait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Env* e = env_of(env);
  double id;
  if (!mp_get_integer(env, argv[0], "cancelWait", "id", 0, kMaxSafeInteger, &id)) return NULL;
  bool found = false;
  for (Waiter* w = e->busy; w && !found; w = w->next) {
    if (w->id != id) continue;
    found = true;
    // Already done: its result is on the way and wins. Else move kGo to kCancel and wake it.
    if (!cas(&w->ctl, kGo, kCancel)) break;
    wake_ctl(w);  // futex_waitv watches ctl: this wakes exactly that thread
    if (!g_waitv) {
      // Older kernels: the thread sleeps on the shared word only. FUTEX_WAKE it (other waiters of
      // that word see a spurious wake-up) until the thread has answered; a thread just about to
      // sleep makes this loop go round a few times.
      while (load(&w->ctl) == kCancel) {
        mp_futex(w->addr, FUTEX_WAKE, INT_MAX, NULL, 0);
        sched_yield();
      }
    }
  }
  napi_value out;
  NAPI_CALL(env, napi_get_boolean(env, found, &out));
  return out;
}

/** waiterStats() → { threads (this env), idle, pending, processThreads, futexWaitv }. */
static napi_value WaiterStats(napi_env env, napi_callback_info info) {
  Env* e = env_of(env);
  napi_value out, v;
  NAPI_CALL(env, napi_create_object(env, &out));
  const char* names[] = {"threads", "idle", "pending", "processThreads"};
  unsigned values[] = {e->n_idle + e->n_busy, e->n_idle, e->n_busy,
                       __atomic_load_n(&g_threads, __ATOMIC_RELAXED)};
  for (int i = 0; i < 4; i++) {
    NAPI_CALL(env, napi_create_uint32(env, values[i], &v));
    NAPI_CALL(env, napi_set_named_property(env, out, names[i], v));
  }
  NAPI_CALL(env, napi_get_boolean(env, g_waitv == 1, &v));
  NAPI_CALL(env, napi_set_named_property(env, out, "futexWaitv", v));
  return out;
}

/** Env teardown (process exit, worker exit or terminate): ends and joins every waiter thread. */
static void teardown(void* arg) {
  Env* e = arg;
  for (Waiter** list = &e->busy;; list = &e->idle) {
    while (*list) {
      Waiter* w = *list;
      *list = w->next;
      end_thread(w);  // promises stay pending: no JS runs after this hook
      free(w);
    }
    if (list == &e->idle) break;
  }
  // napi_release_threadsafe_function(abort): no thread is left to call it; free it now.
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
  free(e);
}

static void probe_waitv(void) {
  if (__atomic_load_n(&g_waitv, __ATOMIC_ACQUIRE) >= 0) return;
  const char* off = getenv("MULTIPROCESSING_TS_NO_FUTEX_WAITV");
  // futex_waitv with no waiters: EINVAL where it exists, ENOSYS (or EPERM under seccomp) where
  // it does not. The variable forces the older path, for its tests.
  long r = syscall(SYS_futex_waitv, NULL, 0, 0, NULL, CLOCK_MONOTONIC);
  int ok = r < 0 && errno == EINVAL && !(off && off[0] && strcmp(off, "0") != 0);
  __atomic_store_n(&g_waitv, ok, __ATOMIC_RELEASE);
}

bool mp_waiters_init(napi_env env, napi_value exports) {
  probe_waitv();
  Env* e = calloc(1, sizeof *e);
  napi_value name;
  if (!e ||
      napi_create_string_utf8(env, "mp_shm.futexWaitAsync", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, e, on_done,
                                      &e->tsfn) != napi_ok) {
    free(e);
    mp_throw_napi(env, "napi_create_threadsafe_function");
    return false;
  }
  // Unref'd while idle: an env with no pending wait must be free to exit.
  napi_unref_threadsafe_function(env, e->tsfn);
  // Per-env state (main thread and each worker_thread get their own): instance data for the
  // functions, and a cleanup hook added after the tsfn so it runs before the tsfn's own.
  if (napi_set_instance_data(env, e, NULL, NULL) != napi_ok ||
      napi_add_env_cleanup_hook(env, teardown, e) != napi_ok) {
    mp_throw_napi(env, "napi_set_instance_data");
    return false;
  }
  napi_property_descriptor props[] = {
      {"futexWaitAsync", NULL, FutexWaitAsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cancelWait", NULL, CancelWait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waiterStats", NULL, WaiterStats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
