/* The native kernels' own worker threads (bf16gemm's), started on first use and kept for the process.
 * Starting and joining a thread costs ~56 us on the 2-core benchmark machine, about what a 0.5B model's
 * k_proj product takes, and a LoRA DPO step makes ~500 such products. A worker that finishes waits for the
 * next task spinning for up to SPIN_NS (back-to-back products then start without a system call), then
 * sleeps on a condition variable. One caller at a time: a second caller while a task runs, or a process
 * whose threads cannot be started, runs the indices itself, one after another (the same results: every
 * index computes the same thing wherever it runs). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include "kernels.h"

#define POOL_MAX 63 /* workers; the caller runs the indices beyond them */
#define SPIN_NS 100000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static void (*task_fn)(void *arg, int index);
static void *task_arg;
/* ticket[w] is bumped when worker w has an index of the current task (index w); the task is written before */
static atomic_uint ticket[POOL_MAX + 1];
static unsigned started_at[POOL_MAX + 1]; /* worker w's ticket when it was started: its first task bumps it */
static atomic_int pending; /* workers yet to finish the current task */
static int workers;        /* started */
static bool cannot_start;  /* the system refused a thread: no more attempts */
static atomic_flag busy = ATOMIC_FLAG_INIT;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *worker(void *arg) {
  int index = (int)(intptr_t)arg;
  unsigned seen = started_at[index];
  for (;;) {
    int64_t until = now_ns() + SPIN_NS;
    unsigned t;
    while ((t = atomic_load_explicit(&ticket[index], memory_order_acquire)) == seen && now_ns() < until) relax();
    if (t == seen) {
      pthread_mutex_lock(&lock);
      while ((t = atomic_load_explicit(&ticket[index], memory_order_acquire)) == seen) pthread_cond_wait(&wake, &lock);
      pthread_mutex_unlock(&lock);
    }
    seen = t;
    task_fn(task_arg, index);
    if (atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&lock);
      pthread_cond_signal(&done);
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

/* A forked child has none of the parent's threads, and a lock one of them held stays held: start afresh. */
static void forget_workers(void) {
  workers = 0;
  pthread_mutex_init(&lock, NULL);
  pthread_cond_init(&wake, NULL);
  pthread_cond_init(&done, NULL);
  atomic_flag_clear(&busy);
}

/* Starts workers up to n (fewer if the system refuses); called with the pool held. */
static void start_workers(int n) {
  static bool registered = false;
  if (!registered) registered = pthread_atfork(NULL, NULL, forget_workers) == 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  while (workers < n && !cannot_start) {
    pthread_t id;
    started_at[workers + 1] = atomic_load_explicit(&ticket[workers + 1], memory_order_relaxed);
    if (pthread_create(&id, &attr, worker, (void *)(intptr_t)(workers + 1)) == 0) workers++;
    else cannot_start = true;
  }
  pthread_attr_destroy(&attr);
}

void k_pool_run(int count, void (*fn)(void *arg, int index), void *arg) {
  if (count <= 1 || atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
    for (int i = 0; i < count; i++) fn(arg, i);
    return;
  }
  int helpers = count - 1 < POOL_MAX ? count - 1 : POOL_MAX;
  if (workers < helpers) start_workers(helpers);
  if (helpers > workers) helpers = workers;
  task_fn = fn;
  task_arg = arg;
  atomic_store_explicit(&pending, helpers, memory_order_relaxed);
  for (int w = 1; w <= helpers; w++) atomic_fetch_add_explicit(&ticket[w], 1, memory_order_release);
  if (helpers > 0) { /* under the lock: a worker that found no ticket is then asleep, and wakes */
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
  }
  fn(arg, 0);
  for (int i = helpers + 1; i < count; i++) fn(arg, i); /* indices without a worker */
  int64_t until = now_ns() + SPIN_NS;
  while (atomic_load_explicit(&pending, memory_order_acquire) > 0 && now_ns() < until) relax();
  if (atomic_load_explicit(&pending, memory_order_acquire) > 0) {
    pthread_mutex_lock(&lock);
    while (atomic_load_explicit(&pending, memory_order_acquire) > 0) pthread_cond_wait(&done, &lock);
    pthread_mutex_unlock(&lock);
  }
  atomic_flag_clear_explicit(&busy, memory_order_release);
}
