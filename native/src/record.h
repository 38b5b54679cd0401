/*
 * Record layout shared by the eBPF program (probe.bpf.c), the addon (probe.cc) and, by hand, the
 * TypeScript decoder (producer/ebpf/record-decoder.ts). All integers are little-endian, as the
 * probe only runs on x86_64. Every record starts with pg_header; `size` covers the header, the
 * fixed body of its kind and the variable blobs after it. Change a field here and the static
 * asserts below, the decoder's offsets and PG_LAYOUT_VERSION change with it.
 */
#ifndef PEREGRINE_RECORD_H
#define PEREGRINE_RECORD_H

#ifdef __BPF__
/* vmlinux.h, included first by the BPF program, defines the __uNN types. */
#else
#include <linux/types.h>
#endif

#define PG_LAYOUT_VERSION 1

/* Map and buffer sizes. */
#define PG_MAX_SYSCALL_NR 512      /* entries of the syscall spec table (x86_64 uses < 470) */
#define PG_MAX_IN_FLIGHT 16384     /* threads inside a traced syscall at the same time */
#define PG_SCRATCH_BYTES 24576     /* per-CPU buffer a record is built in before output */
#define PG_MAX_RECORD_BYTES 16384  /* no record is larger; blob offsets are masked below this */
#define PG_MAX_PATH_BYTES 4096     /* paths and other user strings, NUL included */
#define PG_MAX_SOCKADDR_BYTES 128  /* sizeof(struct sockaddr_storage) */
#define PG_MAX_ARGV_BYTES 4096     /* execve arguments, NUL-separated */
#define PG_MAX_ENV_BYTES 4096      /* execve environment, NUL-separated */
#define PG_MAX_CGROUP_BYTES 1024   /* cgroup path built from kernfs names */
#define PG_MAX_CGROUP_DEPTH 8      /* kernfs levels walked; deeper paths lose their top levels */
#define PG_MAX_UNIX_PATH_BYTES 108 /* sizeof(sockaddr_un.sun_path) */
#define PG_COMM_BYTES 16           /* TASK_COMM_LEN */

/* Record kinds (pg_header.kind). */
enum pg_kind {
  PG_KIND_SYSCALL = 1, /* a traced syscall returned */
  PG_KIND_FORK = 2,    /* sched_process_fork: a process or thread was created */
  PG_KIND_EXEC = 3,    /* sched_process_exec: a process replaced its image */
  PG_KIND_EXIT = 4,    /* sched_process_exit: a thread ended */
  PG_KIND_CGROUP = 5,  /* cgroup_attach_task: a task moved to another cgroup */
};

/*
 * How the probe reads one syscall argument at exit, set per syscall by user space in the spec
 * table. Every kind except PG_ARG_VALUE adds one blob to the record, in argument order.
 */
enum pg_arg_kind {
  PG_ARG_VALUE = 0,           /* the register value only */
  PG_ARG_STRING = 1,          /* NUL-terminated user string, at most PG_MAX_PATH_BYTES */
  PG_ARG_SOCKADDR = 2,        /* user buffer whose length is the argument at len_arg */
  PG_ARG_SOCKADDR_LENPTR = 3, /* user buffer whose length is the int pointed to by len_arg */
  PG_ARG_U64_AT = 4,          /* the 8 bytes at a user pointer (clone3 flags, open_how flags) */
  PG_ARG_SOCKET = 5,          /* the argument is a socket fd: its pg_socket_info from the kernel */
};

/* What the probe reads about the return value, added as the last blob. */
enum pg_res_kind {
  PG_RES_VALUE = 0,  /* nothing more */
  PG_RES_FILE = 1,   /* res is a new fd: pg_file_info of the file it refers to */
  PG_RES_SOCKET = 2, /* res is a new socket fd: pg_socket_info */
};

/* Per-CPU counters (index into the counters map). */
enum pg_counter {
  PG_COUNTER_EMITTED = 0,     /* records written to the ring */
  PG_COUNTER_RING_FULL = 1,   /* records lost because the ring had no room */
  PG_COUNTER_STASH_FULL = 2,  /* syscalls lost because the per-thread stash was full */
  PG_COUNTER_READ_FAILED = 3, /* argument reads that failed; the record went out without them */
  PG_COUNTER_EXIT_WITHOUT_ENTER = 4, /* exits whose entry was not seen (started before attach) */
  PG_COUNTER_COMPAT_SKIPPED = 5,     /* 32-bit compat syscalls, which this probe does not decode */
  PG_COUNTER_COUNT = 6,
};

/* Flags of pg_exec.exe_flags and pg_file_info.flags. */
#define PG_EXE_FROM_MEMFD 0x1
#define PG_FILE_CREATED 0x2 /* pg_file_info only: this open created the file (FMODE_CREATED) */

/* Flags of pg_fork.flags and pg_exit.flags. */
#define PG_TASK_IS_THREAD 0x1  /* fork: the child shares the parent's thread group */
#define PG_TASK_GROUP_DEAD 0x1 /* exit: the last thread of the process ended */

/* Flags of pg_cgroup.flags. */
#define PG_CGROUP_THREADGROUP 0x1 /* the whole thread group moved */

/*
 * Flag of pg_syscall_spec.flags: read no argument blob when the syscall returns 0. A successful
 * execve has replaced the memory its pointer arguments pointed into.
 */
#define PG_SPEC_NO_READ_ON_SUCCESS 0x1

/* Sentinel for the unset audit login uid. */
#define PG_NO_LOGINUID 0xffffffffu

/* Spec table value: how to read one syscall. enabled=0 means the syscall is not traced. */
struct pg_syscall_spec {
  __u8 enabled;
  __u8 res_kind;    /* enum pg_res_kind */
  __u8 arg_kind[6]; /* enum pg_arg_kind per argument */
  __u8 len_arg[6];  /* for the sockaddr kinds: index of the length argument */
  __u8 flags;       /* PG_SPEC_* */
  __u8 reserved;
};

struct pg_header {
  __u64 ts_ns; /* CLOCK_BOOTTIME nanoseconds */
  __u32 size;  /* whole record in bytes */
  __u16 kind;  /* enum pg_kind */
  __u16 cpu;
  __u32 pid; /* thread group id, as user space names a process id */
  __u32 tid;
  __u32 uid; /* effective uid */
  __u32 gid; /* effective gid */
};

/* PG_KIND_SYSCALL: followed by the blobs of the arguments, then the blob of res. */
struct pg_syscall {
  struct pg_header hdr;
  __u16 nr;          /* x86_64 syscall number */
  __u16 blob_len[7]; /* bytes of the blob of argument i, and of res at index 6; 0 when absent */
  __s64 res;
  __u64 args[6];
};

/* PG_KIND_FORK: the header describes the parent thread that forked. */
struct pg_fork {
  struct pg_header hdr;
  __u32 child_pid;
  __u32 child_tid;
  __u32 child_ppid;     /* real parent's thread group id, which differs with CLONE_PARENT */
  __u32 flags;          /* PG_TASK_IS_THREAD */
  __u64 child_start_ns; /* CLOCK_BOOTTIME start of the child */
  __u32 child_vpid;     /* ids in the child's own pid namespace */
  __u32 child_vtid;
};

/* PG_KIND_EXEC: followed by the blobs filename, argv, env and cgroup, in that order. */
struct pg_exec {
  struct pg_header hdr;
  __u32 old_tid; /* tid before exec; differs when a non-leader thread called execve */
  __u32 ppid;
  __u32 loginuid; /* PG_NO_LOGINUID when unset */
  __u32 sid;
  __u32 pgid;
  __u32 tty; /* new_encode_dev() of the controlling terminal, 0 for none */
  __u32 vpid;
  __u32 exe_dev;
  __u64 start_ns; /* CLOCK_BOOTTIME start of the process */
  __u64 cap_permitted;
  __u64 cap_effective;
  __u64 cap_inheritable;
  __u64 exe_ino;
  __u32 exe_uid;
  __u32 exe_gid;
  __u16 exe_mode;
  __u16 exe_flags; /* PG_EXE_* */
  __u16 filename_len;
  __u16 argv_len;
  __u16 env_len;
  __u16 cgroup_len;
  __u32 reserved;
  char comm[PG_COMM_BYTES];
};

/* PG_KIND_EXIT: the header describes the thread that ended. */
struct pg_exit {
  struct pg_header hdr;
  __s32 exit_code; /* task->exit_code: status << 8 or the signal number */
  __u32 flags;     /* PG_TASK_GROUP_DEAD */
};

/* PG_KIND_CGROUP: followed by the cgroup path as the kernel prints it. */
struct pg_cgroup {
  struct pg_header hdr;
  __u32 target_pid; /* process that moved */
  __u32 target_tid;
  __u32 hierarchy_id; /* 0 for the cgroup v2 hierarchy, as in /proc/<pid>/cgroup */
  __u16 path_len;
  __u16 flags; /* PG_CGROUP_THREADGROUP */
};

/* Blob of PG_ARG_SOCKET and PG_RES_SOCKET. Ports are in host order. */
struct pg_socket_info {
  __u16 family;   /* AF_INET, AF_INET6, AF_UNIX ... */
  __u16 type;     /* SOCK_STREAM, SOCK_DGRAM ... */
  __u16 protocol; /* IPPROTO_TCP ... */
  __u16 local_port;
  __u16 remote_port;
  __u16 reserved[3];
  __u8 local_addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
  __u8 remote_addr[16];
  /* AF_UNIX only: the bound path of the socket follows, up to PG_MAX_UNIX_PATH_BYTES. */
};

/* Blob of PG_RES_FILE. */
struct pg_file_info {
  __u64 ino;
  __u32 dev;   /* new_encode_dev() of the file system */
  __u16 mode;  /* i_mode: file type and permission bits */
  __u16 flags; /* PG_EXE_FROM_MEMFD when the file is a memfd */
};

#ifdef __cplusplus
#define PG_STATIC_ASSERT(cond, message) static_assert(cond, message)
#else
#define PG_STATIC_ASSERT(cond, message) _Static_assert(cond, message)
#endif

/* The TypeScript decoder hard-codes these numbers: keep them in step. */
PG_STATIC_ASSERT(sizeof(struct pg_syscall_spec) == 16, "pg_syscall_spec size");
PG_STATIC_ASSERT(sizeof(struct pg_header) == 32, "pg_header size");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_header, size) == 8, "pg_header.size offset");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_header, kind) == 12, "pg_header.kind offset");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_header, pid) == 16, "pg_header.pid offset");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_header, gid) == 28, "pg_header.gid offset");
PG_STATIC_ASSERT(sizeof(struct pg_syscall) == 104, "pg_syscall size");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_syscall, blob_len) == 34, "blob_len offset");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_syscall, res) == 48, "pg_syscall.res offset");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_syscall, args) == 56, "pg_syscall.args offset");
PG_STATIC_ASSERT(sizeof(struct pg_fork) == 64, "pg_fork size");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_fork, child_start_ns) == 48, "child_start_ns");
PG_STATIC_ASSERT(sizeof(struct pg_exec) == 144, "pg_exec size");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_exec, start_ns) == 64, "pg_exec.start_ns");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_exec, exe_ino) == 96, "pg_exec.exe_ino");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_exec, filename_len) == 116, "filename_len");
PG_STATIC_ASSERT(__builtin_offsetof(struct pg_exec, comm) == 128, "pg_exec.comm");
PG_STATIC_ASSERT(sizeof(struct pg_exit) == 40, "pg_exit size");
PG_STATIC_ASSERT(sizeof(struct pg_cgroup) == 48, "pg_cgroup size");
PG_STATIC_ASSERT(sizeof(struct pg_socket_info) == 48, "pg_socket_info size");
PG_STATIC_ASSERT(sizeof(struct pg_file_info) == 16, "pg_file_info size");
PG_STATIC_ASSERT(PG_MAX_RECORD_BYTES + PG_MAX_PATH_BYTES <= PG_SCRATCH_BYTES,
                 "a blob written at a masked offset stays inside the scratch buffer");

#endif /* PEREGRINE_RECORD_H */
