// Shared-memory segments for the 'process' context: memfd files overlaid on wasm-memory pages.

// Node-API cannot create a SharedArrayBuffer over foreign memory, so the JS side creates one
// whose memory V8 mmaps itself, page aligned:
//     new WebAssembly.Memory({ initial: p, maximum: p, shared: true }).buffer
// and `overlay` maps a memfd over that range with MAP_FIXED. V8 releases wasm memory by
// munmapping its whole reservation, which removes our overlay too, so no malloc heap is ever
// aliased to shared memory and the mapping lives exactly as long as the SharedArrayBuffer.
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

/** memfd_create's name limit: 249 bytes plus the "memfd:" prefix the kernel adds. */
#define kMaxNameBytes 249

// ---- helpers

static double page_size(void) {
  // sysconf(_SC_PAGESIZE): the kernel's page (4 KiB on x64, up to 64 KiB on some arm64); mmap
  // offsets and MAP_FIXED addresses must be multiples of it.
  return (double)sysconf(_SC_PAGESIZE);
}

static bool get_fd(napi_env env, napi_value v, const char* fn, int* fd) {
  double d;
  if (!mp_get_integer(env, v, fn, "fd", 0, INT32_MAX, &d)) return false;
  *fd = (int)d;
  return true;
}

/** RAM + swap in all, and available now, from /proc/meminfo in bytes (false if unreadable). */
static bool memory_limits(double* total, double* available) {
  // fopen("/proc/meminfo"): the kernel's own estimate of memory that can be had without swapping
  // out (MemAvailable), which is what a tmpfs allocation draws from.
  FILE* f = fopen("/proc/meminfo", "re");
  if (!f) return false;
  char line[128];
  double mem_total = -1, mem_avail = -1, swap_total = 0, swap_free = 0, kb;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "MemTotal: %lf kB", &kb) == 1) mem_total = kb * 1024;
    if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) mem_avail = kb * 1024;
    if (sscanf(line, "SwapTotal: %lf kB", &kb) == 1) swap_total = kb * 1024;
    if (sscanf(line, "SwapFree: %lf kB", &kb) == 1) swap_free = kb * 1024;
  }
  fclose(f);
  if (mem_total < 0 || mem_avail < 0) return false;
  *total = mem_total + swap_total;
  *available = mem_avail + swap_free;
  return true;
}

/**
 * Allocates the pages of [offset, offset + length) of `fd` now, so running out of memory is an
 * error here and not a SIGBUS at some later first touch. Throws and returns false on failure.
 */
static bool allocate(napi_env env, const char* fn, int fd, double offset, double length) {
  if (length <= 0) return true;
  // A memfd has no size limit of its own: the kernel would allocate until the OOM killer picks a
  // victim. Refuse what the machine cannot hold before asking.
  double total, available;
  if (memory_limits(&total, &available)) {
    if (length > total) {
      mp_throw_code(env, "ERR_SHM_TOO_LARGE",
                   "%s: cannot allocate %.0f bytes of shared memory, more than this machine's "
                   "RAM + swap (%.0f bytes)", fn, length, total);
      return false;
    }
    if (length > available) {
      mp_throw_code(env, "ERR_SHM_NO_SPACE",
                   "%s: cannot allocate %.0f bytes of shared memory, only %.0f are available",
                   fn, length, available);
      return false;
    }
  }
  int err;
  // posix_fallocate: makes tmpfs allocate every page of the range now (it returns the error
  // number rather than setting errno). A signal can interrupt a long allocation: retry.
  do err = posix_fallocate(fd, (off_t)offset, (off_t)length);
  while (err == EINTR);
  if (err == 0) return true;
  const char* code = err == ENOSPC || err == ENOMEM ? "ERR_SHM_NO_SPACE"
                     : err == EFBIG || err == EINVAL ? "ERR_SHM_TOO_LARGE"
                                                     : "ERR_SHM_SYSCALL";
  mp_throw_sys(env, code, err, "posix_fallocate",
               "%s: cannot allocate %.0f bytes of shared memory at offset %.0f", fn, length,
               offset);
  return false;
}

/** fstat's size of `fd`, or -1 after throwing (ERR_SHM_BAD_FD for a closed descriptor). */
static double size_of(napi_env env, const char* fn, int fd) {
  struct stat st;
  // fstat: the file's current length (what ftruncate set).
  if (fstat(fd, &st) == 0) return (double)st.st_size;
  mp_throw_sys(env, errno == EBADF ? "ERR_SHM_BAD_FD" : "ERR_SHM_SYSCALL", errno, "fstat",
               "%s: \"fd\" %d is not usable", fn, fd);
  return -1;
}

// ---- exports

/** memfdCreate(name, size, reserve = size) → fd: a new memfd of `size` bytes, `reserve` allocated. */
static napi_value MemfdCreate(napi_env env, napi_callback_info info) {
  static const char fn[] = "memfdCreate";
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[kMaxNameBytes + 1];
  size_t name_len = 0;
  // A longer name is cut short: it only labels the file in /proc/<pid>/maps.
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "memfdCreate: \"name\" must be a string");
    return NULL;
  }
  double size, reserve;
  if (!mp_get_integer(env, argv[1], fn, "size", 1, kMaxSafeInteger, &size))
    return NULL;
  napi_valuetype t = napi_undefined;
  napi_typeof(env, argv[2], &t);
  reserve = size;
  if (t != napi_undefined && !mp_get_integer(env, argv[2], fn, "reserve", 0, size, &reserve))
    return NULL;
  // memfd_create: an anonymous tmpfs file, reachable only through descriptors (no name in
  // /dev/shm to leak). MFD_CLOEXEC: a child gets it only on purpose (a stdio slot) or through
  // /proc/<pid>/fd, never by accident across exec.
  int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
  if (fd < 0) {
    mp_throw_sys(env, "ERR_SHM_SYSCALL", errno, "memfd_create", "%s: cannot create \"%s\"", fn,
                 name);
    return NULL;
  }
  // ftruncate: sets the length; the pages stay unallocated (a sparse file) until touched.
  if (ftruncate(fd, (off_t)size) != 0) {
    int err = errno;
    close(fd);
    mp_throw_sys(env, err == EFBIG || err == EINVAL ? "ERR_SHM_TOO_LARGE" : "ERR_SHM_SYSCALL",
                 err, "ftruncate", "%s: cannot size a segment to %.0f bytes", fn, size);
    return NULL;
  }
  if (!allocate(env, fn, fd, 0, reserve)) {
    close(fd);  // close: the only descriptor, so the file and any pages it got are freed
    return NULL;
  }
  napi_value out;
  NAPI_CALL(env, napi_create_int32(env, fd, &out));
  return out;
}

/** reserve(fd, offset, length): allocates more of a segment created with a smaller reserve. */
static napi_value Reserve(napi_env env, napi_callback_info info) {
  static const char fn[] = "reserve";
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  double offset, length;
  if (!get_fd(env, argv[0], fn, &fd) ||
      !mp_get_integer(env, argv[1], fn, "offset", 0, kMaxSafeInteger, &offset) ||
      !mp_get_integer(env, argv[2], fn, "length", 0, kMaxSafeInteger, &length))
    return NULL;
  double size = size_of(env, fn, fd);
  if (size < 0) return NULL;
  if (offset + length > size) {
    // posix_fallocate would grow the file instead: a segment's size is fixed at creation.
    mp_throw_code(env, "ERR_SHM_OUT_OF_RANGE",
                 "%s: offset %.0f + length %.0f is past the segment's %.0f bytes", fn, offset,
                 length, size);
    return NULL;
  }
  if (!allocate(env, fn, fd, offset, length)) return NULL;
  return NULL;
}

/** overlay(view, fd, fileOffset): maps the fd's bytes from fileOffset over the view's memory. */
static napi_value Overlay(napi_env env, napi_callback_info info) {
  static const char fn[] = "overlay";
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* data;
  size_t bytes;
  int fd;
  double offset, page = page_size();
  if (!mp_get_view(env, argv[0], fn, "view", napi_uint8_array, &data, &bytes) ||
      !get_fd(env, argv[1], fn, &fd) ||
      !mp_get_integer(env, argv[2], fn, "fileOffset", 0, kMaxSafeInteger, &offset))
    return NULL;
  char msg[256];
  if ((uintptr_t)data % (uintptr_t)page != 0 || bytes == 0 || bytes % (size_t)page != 0) {
    snprintf(msg, sizeof msg,
             "%s: \"view\" must start on a %.0f-byte page and span whole pages (got %zu bytes "
             "at address %% page = %zu)",
             fn, page, bytes, (size_t)((uintptr_t)data % (uintptr_t)page));
    napi_throw_range_error(env, "ERR_SHM_MISALIGNED", msg);
    return NULL;
  }
  if (fmod(offset, page) != 0) {
    snprintf(msg, sizeof msg, "%s: \"fileOffset\" %.0f is not a multiple of the page size %.0f",
             fn, offset, page);
    napi_throw_range_error(env, "ERR_SHM_MISALIGNED", msg);
    return NULL;
  }
  double size = size_of(env, fn, fd);
  if (size < 0) return NULL;
  if (offset + (double)bytes > size) {
    // Pages past the end of the file raise SIGBUS when touched: refuse to map them.
    mp_throw_code(env, "ERR_SHM_OUT_OF_RANGE",
                 "%s: mapping %zu bytes at \"fileOffset\" %.0f reaches past the segment's %.0f "
                 "bytes", fn, bytes, offset, size);
    return NULL;
  }
  // mmap(MAP_SHARED | MAP_FIXED): atomically replaces the wasm pages at `data` with the file's
  // pages, so every process mapping this file sees the same memory. The view's memory must be a
  // wasm Memory's (the JS wrapper guarantees it): V8 frees it with one munmap of the reservation.
  void* p = mmap(data, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)offset);
  if (p == MAP_FAILED) {
    int err = errno;
    // A failed MAP_FIXED may already have unmapped the range (e.g. at vm.max_map_count): put
    // private zero pages back so V8 never touches a hole. mmap(MAP_ANONYMOUS | MAP_FIXED).
    mmap(data, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    mp_throw_sys(env, err == EBADF ? "ERR_SHM_BAD_FD" : "ERR_SHM_SYSCALL", err, "mmap",
                 "%s: cannot map %zu bytes of fd %d at offset %.0f", fn, bytes, fd, offset);
  }
  return NULL;
}

/** openFd(pid, fd) → a new descriptor of process `pid`'s descriptor `fd` (Linux /proc). */
static napi_value OpenFd(napi_env env, napi_callback_info info) {
  static const char fn[] = "openFd";
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double pid;
  int fd;
  if (!mp_get_integer(env, argv[0], fn, "pid", 1, INT32_MAX, &pid) ||
      !get_fd(env, argv[1], fn, &fd))
    return NULL;
  char path[64];
  snprintf(path, sizeof path, "/proc/%.0f/fd/%d", pid, fd);
  // open("/proc/<pid>/fd/<n>"): reopens the very file that descriptor refers to (a memfd has no
  // other name). Needs the same user as `pid` (ptrace read access). O_CLOEXEC as memfdCreate.
  int out_fd = open(path, O_RDWR | O_CLOEXEC);
  if (out_fd < 0) {
    int err = errno;
    const char* code = err == ENOENT ? "ERR_SHM_NO_SUCH_FD"
                       : err == EACCES || err == EPERM ? "ERR_SHM_ACCESS"
                                                       : "ERR_SHM_SYSCALL";
    mp_throw_sys(env, code, err, "open", "%s: cannot open %s", fn, path);
    return NULL;
  }
  napi_value out;
  NAPI_CALL(env, napi_create_int32(env, out_fd, &out));
  return out;
}

/**
 * dieWithParent(parentPid) → whether the parent is still `parentPid`: asks the kernel to SIGKILL
 * this process when the thread that started it ends, so a child blocked in a futex wait does not
 * outlive its program. False when the parent was already gone (the caller exits then).
 */
static napi_value DieWithParent(napi_env env, napi_callback_info info) {
  static const char fn[] = "dieWithParent";
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double parent;
  if (!mp_get_integer(env, argv[0], fn, "parentPid", 1, INT32_MAX, &parent)) return NULL;
  // prctl(PR_SET_PDEATHSIG): the signal the kernel sends us when our parent (thread) exits.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    mp_throw_sys(env, "ERR_SHM_SYSCALL", errno, "prctl", "%s: PR_SET_PDEATHSIG failed", fn);
    return NULL;
  }
  // getppid(): a parent that died before the prctl left us re-parented, and no signal will come.
  napi_value out;
  NAPI_CALL(env, napi_get_boolean(env, getppid() == (pid_t)parent, &out));
  return out;
}

/** closeFd(fd): closes a descriptor from memfdCreate or openFd (mappings stay valid). */
static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (!get_fd(env, argv[0], "closeFd", &fd)) return NULL;
  // close: drops this descriptor; the file lives on while any mapping or descriptor holds it.
  if (close(fd) != 0 && errno != EINTR)
    mp_throw_sys(env, errno == EBADF ? "ERR_SHM_BAD_FD" : "ERR_SHM_SYSCALL", errno, "close",
                 "closeFd: \"fd\" %d", fd);
  return NULL;
}

/** fdSize(fd) → the file's size in bytes. */
static napi_value FdSize(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (!get_fd(env, argv[0], "fdSize", &fd)) return NULL;
  double size = size_of(env, "fdSize", fd);
  if (size < 0) return NULL;
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, size, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"memfdCreate", NULL, MemfdCreate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reserve", NULL, Reserve, NULL, NULL, NULL, napi_enumerable, NULL},
      {"overlay", NULL, Overlay, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openFd", NULL, OpenFd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, CloseFd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fdSize", NULL, FdSize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dieWithParent", NULL, DieWithParent, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value page;
  NAPI_CALL(env, napi_create_double(env, page_size(), &page));
  NAPI_CALL(env, napi_set_named_property(env, exports, "pageSize", page));
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (!mp_futex_init(env, exports) || !mp_waiters_init(env, exports)) return NULL;
  return exports;
}
