/*
 * The syscall-heavy load of bench-probe: for SECONDS it repeats one operation, at most RATE times
 * per second (0: as fast as it can), then prints how many it completed.
 *
 *   syscall-loop open-close SECONDS RATE PATH   openat(PATH) and close: two syscalls per operation
 *   syscall-loop getppid SECONDS RATE           two getppid calls, which the probe does not trace
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Operations between two looks at the clock, which cost no syscall (the vDSO reads it). */
#define CLOCK_STRIDE 64

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: syscall-loop open-close|getppid SECONDS RATE [PATH]\n");
    return 2;
  }
  int is_open = strcmp(argv[1], "open-close") == 0;
  if (is_open && argc < 5) {
    fprintf(stderr, "syscall-loop: open-close needs a PATH\n");
    return 2;
  }
  double seconds = atof(argv[2]);
  double rate = atof(argv[3]);
  const char *path = is_open ? argv[4] : NULL;

  double start = now_seconds();
  double end = start + seconds;
  unsigned long done = 0;
  for (double now = start; now < end;) {
    for (int i = 0; i < CLOCK_STRIDE; i++) {
      if (is_open) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) close(fd);
      } else {
        getppid();
        getppid();
      }
      done++;
    }
    now = now_seconds();
    /* Paced runs wait until the schedule catches up with the operations done. */
    while (rate > 0 && (double)done > (now - start) * rate && now < end) now = now_seconds();
  }
  printf("%lu %.6f\n", done, now_seconds() - start);
  return 0;
}
