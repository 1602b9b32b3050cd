# Builds the mp_shm native addon (Node-API 8, C, Linux only) used by the 'process' context.
{
  "targets": [
    {
      "target_name": "mp_shm",
      "sources": ["native/args.c", "native/shm.c", "native/futex.c", "native/waiters.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"]
    }
  ]
}
