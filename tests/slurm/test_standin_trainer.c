/* test_standin_trainer.c -- a STAND-IN for `dyolo train` used only by the Slurm tests
 * (the scripts in tests/slurm/) until the real trainer exists. It is not a trainer: it fakes one
 * with a cheap deterministic computation, but it obeys the same process protocol, so the
 * sbatch templates and the tests can be proven now and pointed at `dyolo train` later:
 *   - a loop of steps; every step each rank handles its share of a fixed global batch of
 *     "samples" (global sample index = step * G + i, i % world == rank) and the shares
 *     are combined with MPI_Allreduce; the state after the last step depends on every
 *     step and, being integer arithmetic, on neither the world size nor the reduction
 *     order: a run resumed on fewer ranks must print exactly the same result;
 *   - the state is checkpointed (rank 0, write temp + fsync + rename) every
 *     --ckpt-every steps and when SIGUSR1/SIGTERM arrives: the handler only sets a flag,
 *     ranks agree on it with MPI_Allreduce(MAX) at the step boundary, checkpoint, and
 *     exit 75 ("checkpointed, requeue me");
 *   - `--resume auto` continues from the checkpoint in the run dir when there is one
 *     (the run dir: --run-dir DIR, or dyolo's `--set run.out_dir=DIR`, which the
 *     templates pass);
 *   - a watchdog thread turns a collective that cannot complete (a peer died) into a
 *     clear error and exit status 1 instead of a hang;
 *   - exit codes as dyolo's: 0 done, 1 error, 2 usage, 75 checkpointed-requeue-me.
 * --hang-rank/--hang-step make one rank stop responding, to test the watchdog.
 * Output: one line per rank at start ("standin: rank R/W node N pid P"), and rank 0's
 * "standin result: steps=.. state=.. samples=.. idsum=.." at the end. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_DONE = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_REQUEUE = 75 };

struct opts {
  const char *run_dir;
  long steps, global_batch, ckpt_every, step_ms;
  double watchdog_s;
  int resume;
  long hang_rank, hang_step; /* test hook: this rank stops responding at this step */
};

/* The replicated training state: identical on every rank after each step. */
struct state {
  uint64_t step, value, samples, idsum, world;
};

static volatile sig_atomic_t g_stop_signal;
static atomic_llong g_coll_since_ms; /* when the pending collective began, 0 if none */
static atomic_llong g_coll_step;
static double g_watchdog_s;
static int g_rank;

static void on_signal(int sig) { g_stop_signal = sig; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64 finaliser: a cheap, well-mixing bijection on 64-bit words. */
static uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static int usage(const char *msg) {
  fprintf(stderr, "standin: %s\nusage: test_standin_trainer --run-dir DIR|--set run.out_dir=DIR [--steps N] "
          "[--global-batch G] [--ckpt-every K] [--step-ms MS] [--watchdog SECONDS] "
          "[--resume auto|none] [--hang-rank R --hang-step S]\n", msg);
  return EXIT_USAGE;
}

static int parse_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0) return -1;
  *out = v;
  return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o) {
  *o = (struct opts){NULL, 200, 12, 25, 20, 20.0, 0, -1, -1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    if (!v) return usage("option without a value (or unknown option)");
    i++;
    if (!strcmp(a, "--run-dir")) o->run_dir = v;
    else if (!strcmp(a, "--set")) { /* dyolo's way to set the run dir: the templates use it */
      if (strncmp(v, "run.out_dir=", 12)) return usage("--set: the stand-in knows only run.out_dir=DIR");
      o->run_dir = v + 12;
    }
    else if (!strcmp(a, "--resume")) {
      if (strcmp(v, "auto") && strcmp(v, "none")) return usage("--resume takes auto or none");
      o->resume = !strcmp(v, "auto");
    } else if (parse_long(v, &n)) return usage("option values must be non-negative integers");
    else if (!strcmp(a, "--steps")) o->steps = n;
    else if (!strcmp(a, "--global-batch")) o->global_batch = n;
    else if (!strcmp(a, "--ckpt-every")) o->ckpt_every = n;
    else if (!strcmp(a, "--step-ms")) o->step_ms = n;
    else if (!strcmp(a, "--watchdog")) o->watchdog_s = (double)n;
    else if (!strcmp(a, "--hang-rank")) o->hang_rank = n;
    else if (!strcmp(a, "--hang-step")) o->hang_step = n;
    else return usage("unknown option");
  }
  if (!o->run_dir) return usage("--run-dir is required");
  if (o->global_batch < 1 || o->ckpt_every < 1) return usage("--global-batch and --ckpt-every must be >= 1");
  return 0;
}

/* The watchdog: a collective that has not returned for g_watchdog_s seconds means a
 * peer is gone (Open MPI over TCP may otherwise wait forever); fail loudly instead. */
static void *watchdog_main(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    long long since = atomic_load(&g_coll_since_ms);
    if (since && now_ms() - since > (long long)(g_watchdog_s * 1000)) {
      fprintf(stderr, "standin: rank %d: collective of step %lld did not complete in %.0f s "
              "(a peer rank died?); exiting with status 1\n", g_rank,
              (long long)atomic_load(&g_coll_step), g_watchdog_s);
      _exit(EXIT_ERROR);
    }
  }
  return NULL;
}

static int allreduce(void *sendbuf, void *recvbuf, int n, MPI_Datatype t, MPI_Op op, uint64_t step) {
  atomic_store(&g_coll_step, (long long)step);
  atomic_store(&g_coll_since_ms, now_ms());
  int rc = MPI_Allreduce(sendbuf, recvbuf, n, t, op, MPI_COMM_WORLD);
  atomic_store(&g_coll_since_ms, 0);
  if (rc != MPI_SUCCESS) fprintf(stderr, "standin: rank %d: MPI_Allreduce failed at step %" PRIu64 "\n", g_rank, step);
  return rc == MPI_SUCCESS ? 0 : -1;
}

static void ckpt_path(const struct opts *o, char *buf, size_t n, const char *suffix) {
  snprintf(buf, n, "%s/checkpoints/standin.state%s", o->run_dir, suffix);
}

/* Rank 0 publishes the state atomically: a reader sees the old or the new file. */
static int ckpt_write(const struct opts *o, const struct state *s) {
  char dir[4096], tmp[4200], fin[4200];
  snprintf(dir, sizeof dir, "%s/checkpoints", o->run_dir);
  if (mkdir(o->run_dir, 0755) && errno != EEXIST) goto fail_dir;
  if (mkdir(dir, 0755) && errno != EEXIST) goto fail_dir;
  ckpt_path(o, tmp, sizeof tmp, ".tmp");
  ckpt_path(o, fin, sizeof fin, "");
  FILE *f = fopen(tmp, "w");
  if (!f) { perror(tmp); return -1; }
  uint64_t check = mix64(s->step ^ mix64(s->value ^ mix64(s->samples ^ mix64(s->idsum))));
  int bad = fprintf(f, "standin-state 1 %" PRIu64 " %016" PRIx64 " %" PRIu64 " %016" PRIx64
                    " %" PRIu64 " %016" PRIx64 "\n", s->step, s->value, s->samples, s->idsum,
                    s->world, check) < 0;
  bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, fin)) { perror(fin); return -1; }
  return 0;
fail_dir:
  perror(o->run_dir);
  return -1;
}

/* Returns 1 when a checkpoint was loaded, 0 when there is none, -1 when it is corrupt. */
static int ckpt_read(const struct opts *o, struct state *s) {
  char path[4200];
  ckpt_path(o, path, sizeof path, "");
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? 0 : (perror(path), -1);
  uint64_t check;
  int n = fscanf(f, "standin-state 1 %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNx64 " %" SCNu64
                 " %" SCNx64, &s->step, &s->value, &s->samples, &s->idsum, &s->world, &check);
  fclose(f);
  if (n != 6 || check != mix64(s->step ^ mix64(s->value ^ mix64(s->samples ^ mix64(s->idsum))))) {
    fprintf(stderr, "standin: %s: corrupt checkpoint (bad format or checksum)\n", path);
    return -1;
  }
  return 1;
}

/* One step: this rank's share of the global batch, reduced over all ranks. */
static int do_step(const struct opts *o, struct state *s, int rank, int world) {
  uint64_t local[3] = {0, 0, 0}, sum[3];
  for (long i = rank; i < o->global_batch; i += world) {
    uint64_t id = s->step * (uint64_t)o->global_batch + (uint64_t)i;
    local[0] += mix64(s->value ^ mix64(id));
    local[1] += 1;
    local[2] += mix64(id);
  }
  struct timespec ts = {o->step_ms / 1000, (o->step_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* stands in for forward/backward time without burning CPU */
  if (rank == o->hang_rank && (long)s->step == o->hang_step) /* the watchdog test's stuck peer */
    for (;;) pause();
  if (allreduce(local, sum, 3, MPI_UINT64_T, MPI_SUM, s->step)) return -1;
  if (sum[1] != (uint64_t)o->global_batch) {
    fprintf(stderr, "standin: step %" PRIu64 ": %" PRIu64 " samples seen, expected %ld\n",
            s->step, sum[1], o->global_batch);
    return -1;
  }
  s->value = mix64(s->value + sum[0] + s->step);
  s->samples += sum[1];
  s->idsum += sum[2];
  s->step++;
  return 0;
}

static int load_or_init(const struct opts *o, struct state *s, int rank, int world) {
  int found = 0;
  *s = (struct state){0, 0x5eedULL, 0, 0, (uint64_t)world};
  if (rank == 0 && o->resume) found = ckpt_read(o, s);
  if (MPI_Bcast(&found, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  if (found < 0) return -1;
  if (MPI_Bcast(s, 5, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  if (rank == 0 && found)
    printf("standin: resumed at step %" PRIu64 " (checkpoint written by %" PRIu64
           " ranks) with %d ranks\n", s->step, s->world, world);
  s->world = (uint64_t)world;
  return 0;
}

/* The step loop; returns the exit code. */
static int train(const struct opts *o, int rank, int world) {
  struct state s;
  if (load_or_init(o, &s, rank, world)) return EXIT_ERROR;
  while (s.step < (uint64_t)o->steps) {
    if (do_step(o, &s, rank, world)) return EXIT_ERROR;
    int mine = g_stop_signal, any;
    if (allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, s.step)) return EXIT_ERROR;
    int periodic = s.step % (uint64_t)o->ckpt_every == 0;
    if ((any || periodic) && rank == 0 && ckpt_write(o, &s)) return EXIT_ERROR;
    if (any) {
      if (rank == 0) printf("standin: signal %d: checkpoint written at step %" PRIu64 "; exiting 75 (requeue me)\n", any, s.step);
      return EXIT_REQUEUE;
    }
  }
  if (rank == 0 && ckpt_write(o, &s)) return EXIT_ERROR;
  if (rank == 0)
    printf("standin result: steps=%" PRIu64 " state=%016" PRIx64 " samples=%" PRIu64
           " idsum=%016" PRIx64 " world=%d\n", s.step, s.value, s.samples, s.idsum, world);
  return EXIT_DONE;
}

int main(int argc, char **argv) {
  /* Handlers first: a signal that arrives during start-up must not kill the rank. */
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  struct opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc) return rc;
  g_watchdog_s = o.watchdog_s;
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) { fprintf(stderr, "standin: MPI_Init failed\n"); return EXIT_ERROR; }
  int rank, world;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  g_rank = rank;
  char host[256] = "?";
  gethostname(host, sizeof host);
  const char *node = getenv("SLURMD_NODENAME");
  printf("standin: rank %d/%d node %s pid %ld\n", rank, world, node ? node : host, (long)getpid());
  fflush(stdout);
  pthread_t wd;
  if (o.watchdog_s > 0 && pthread_create(&wd, NULL, watchdog_main, NULL)) {
    fprintf(stderr, "standin: cannot start the watchdog thread\n");
    MPI_Abort(MPI_COMM_WORLD, EXIT_ERROR);
  }
  rc = train(&o, rank, world);
  fflush(stdout);
  if (rc == EXIT_ERROR) MPI_Abort(MPI_COMM_WORLD, EXIT_ERROR); /* others may wait in a collective */
  MPI_Finalize();
  return rc;
}
