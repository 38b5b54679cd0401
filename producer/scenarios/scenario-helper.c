/*
 * Small actions for Peregrine's detection scenarios that no standard tool performs on its own.
 * Each one touches only this program's own processes and the files named on its command line.
 *
 *   scenario-helper open-read PATH      open PATH read-only and close it without reading
 *   scenario-helper ptrace-attach       attach to a child of its own, then detach and end it
 *   scenario-helper ptrace-traceme      a child requests tracing by this program, then exits
 *   scenario-helper memfd-exec PROGRAM  copy PROGRAM into a memfd and execute it from there
 *   scenario-helper packet-socket       open an AF_PACKET socket and close it unbound
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what) {
  fprintf(stderr, "scenario-helper: %s failed: %s\n", what, strerror(errno));
  return 1;
}

static int open_read(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return fail("open");
  close(fd);
  return 0;
}

static int ptrace_attach(void) {
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    pause();
    _exit(0);
  }
  int status = 0;
  int result = 0;
  if (ptrace(PTRACE_ATTACH, child, NULL, NULL) != 0) {
    result = fail("ptrace(PTRACE_ATTACH)");
  } else {
    waitpid(child, &status, 0);
    ptrace(PTRACE_DETACH, child, NULL, NULL);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return result;
}

static int ptrace_traceme(void) {
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    /* The child stays traced by this program only until it exits, which it does at once. */
    _exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int memfd_exec(const char *program) {
  int source = open(program, O_RDONLY);
  if (source < 0) return fail("open program");
  int memfd = memfd_create("peregrine-scenario", 0);
  if (memfd < 0) return fail("memfd_create");
  char buffer[65536];
  ssize_t count;
  while ((count = read(source, buffer, sizeof buffer)) > 0) {
    if (write(memfd, buffer, (size_t)count) != count) return fail("write memfd");
  }
  close(source);
  char *const argv[] = {(char *)program, NULL};
  fexecve(memfd, argv, environ);
  return fail("fexecve");
}

static int packet_socket(void) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) return fail("socket(AF_PACKET)");
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "open-read") == 0) return open_read(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "ptrace-attach") == 0) return ptrace_attach();
  if (argc >= 2 && strcmp(argv[1], "ptrace-traceme") == 0) return ptrace_traceme();
  if (argc >= 3 && strcmp(argv[1], "memfd-exec") == 0) return memfd_exec(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "packet-socket") == 0) return packet_socket();
  fprintf(stderr, "usage: scenario-helper open-read PATH | ptrace-attach | ptrace-traceme | "
                  "memfd-exec PROGRAM | packet-socket\n");
  return 2;
}
