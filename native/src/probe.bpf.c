// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peregrine's syscall probe. Raw tracepoints on sys_enter and sys_exit stash the arguments of the
 * syscalls user space enabled in `syscall_specs` and emit one record per syscall at exit, when
 * the kernel has touched every user page the arguments point to. The sched_process_{fork,exec,
 * exit} and cgroup_attach_task tracepoints feed the process table in user space. The record
 * layout is in record.h. Records go out without a wake-up: the addon polls the ring from the
 * main thread instead of sleeping in epoll, which keeps ring wake-ups off the traced workload.
 *
 * The kernel requires a GPL-compatible licence for bpf_probe_read_user and the other tracing
 * helpers used below.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "record.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define FMODE_CREATED 0x100000 /* include/linux/fs.h: the open created the file */
#define TS_COMPAT 0x0002             /* x86 thread_info.status: a 32-bit syscall is running */
#define DEFAULT_RING_BYTES (8 << 20) /* replaced by the addon before load */
#define CGROUP_NAME_BYTES 128        /* one kernfs name; container ids need 64 + a prefix */
#define MEMFD_PREFIX_BYTES 6         /* strlen("memfd:") */
#define NR_EXECVE 59                 /* x86_64 syscall numbers */
#define NR_EXECVEAT 322

char LICENSE[] SEC("license") = "GPL";

/* Set by the addon before load. */
const volatile __u32 ignored_tgid = 0;      /* the consumer itself, so its reads cause no records */
const volatile __u8 use_unified_cgroup = 0; /* read cgroup paths from cgroup v2, not v1 pids */

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, DEFAULT_RING_BYTES);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PG_MAX_SYSCALL_NR);
  __type(key, __u32);
  __type(value, struct pg_syscall_spec);
} syscall_specs SEC(".maps");

struct pg_stash {
  __u64 args[6];
  __u32 nr;
  __u32 reserved;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, PG_MAX_IN_FLIGHT);
  __type(key, __u32);
  __type(value, struct pg_stash);
} stash SEC(".maps");

struct pg_scratch {
  __u8 data[PG_SCRATCH_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pg_scratch);
} scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PG_COUNTER_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* kernfs_node's parent pointer was renamed to __parent in Linux 6.15. */
struct kernfs_node___new {
  struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
  struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline void count(__u32 which) {
  __u64 *value = bpf_map_lookup_elem(&counters, &which);
  if (value) *value += 1;
}

static __always_inline __u32 encode_dev(__u32 major, __u32 minor) {
  return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* The kernel's dev_t is major << 20 | minor; user space sees new_encode_dev() of it. */
static __always_inline __u32 encode_kernel_dev(__u32 dev) {
  return encode_dev(dev >> 20, dev & 0xfffff);
}

/*
 * Clamps a length from user or kernel memory to [0, max], then masks it with `mask` (a power of two
 * minus one, at least max) in an asm statement. Clang drops a plain C mask it can prove redundant,
 * and the verifier then rejects the read because its size register has no upper bound.
 */
static __always_inline __u64 clamp_len(long len, __u64 max, __u64 mask) {
  __u64 n = len <= 0 ? 0 : (__u64)len > max ? max : (__u64)len;
  asm volatile("%[n] &= %[mask]" : [n] "+r"(n) : [mask] "i"(mask));
  return n;
}

/* Returns dst + off with off masked below PG_MAX_RECORD_BYTES where the verifier can see it. */
static __always_inline __u8 *at_offset(__u8 *dst, __u64 off) {
  asm volatile("%[off] &= %[mask]" : [off] "+r"(off) : [mask] "i"(PG_MAX_RECORD_BYTES - 1));
  return dst + off;
}

static __always_inline void fill_header(struct pg_header *hdr, __u16 kind,
                                        struct task_struct *task) {
  hdr->ts_ns = bpf_ktime_get_boot_ns();
  hdr->kind = kind;
  hdr->cpu = bpf_get_smp_processor_id();
  hdr->pid = BPF_CORE_READ(task, tgid);
  hdr->tid = BPF_CORE_READ(task, pid);
  hdr->uid = BPF_CORE_READ(task, cred, euid.val);
  hdr->gid = BPF_CORE_READ(task, cred, egid.val);
}

static __always_inline void emit(void *data, __u32 size) {
  if (size > PG_MAX_RECORD_BYTES) return;
  if (bpf_ringbuf_output(&events, data, size, BPF_RB_NO_WAKEUP) != 0) {
    count(PG_COUNTER_RING_FULL);
    return;
  }
  count(PG_COUNTER_EMITTED);
}

static __always_inline struct pg_scratch *get_scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline int is_compat_syscall(struct task_struct *task) {
#ifdef __TARGET_ARCH_x86
  return (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT) != 0;
#else
  return 0;
#endif
}

static __always_inline struct file *fd_to_file(struct task_struct *task, long fd) {
  if (fd < 0) return NULL;
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt) return NULL;
  if ((unsigned long)fd >= BPF_CORE_READ(fdt, max_fds)) return NULL;

  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = NULL;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

static __always_inline int is_memfd(struct file *file) {
  char prefix[MEMFD_PREFIX_BYTES] = {};
  const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
  if (bpf_probe_read_kernel(prefix, sizeof(prefix), name) != 0) return 0;
  return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
         prefix[4] == 'd' && prefix[5] == ':';
}

/* Writes the pg_file_info of the file behind `fd`; returns the bytes written. */
static __always_inline __u32 write_file_info(__u8 *dst, struct task_struct *task, long fd) {
  struct file *file = fd_to_file(task, fd);
  if (!file) return 0;

  struct pg_file_info *info = (struct pg_file_info *)dst;
  struct inode *inode = BPF_CORE_READ(file, f_inode);
  info->ino = BPF_CORE_READ(inode, i_ino);
  info->dev = encode_kernel_dev(BPF_CORE_READ(inode, i_sb, s_dev));
  info->mode = BPF_CORE_READ(inode, i_mode);
  info->flags = is_memfd(file) ? PG_EXE_FROM_MEMFD : 0;
  if (BPF_CORE_READ(file, f_mode) & FMODE_CREATED) info->flags |= PG_FILE_CREATED;
  return sizeof(*info);
}

static __always_inline __u32 write_unix_path(__u8 *dst, struct sock *sk) {
  struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)sk, addr);
  if (!addr) return 0;

  __u64 len =
      clamp_len(BPF_CORE_READ(addr, len) - (int)sizeof(__u16), PG_MAX_UNIX_PATH_BYTES, 0x7f);
  if (len == 0) return 0;
  if (bpf_probe_read_kernel(dst, len, &addr->name[0].sun_path) != 0) return 0;
  return len;
}

/* Writes the pg_socket_info of the socket behind `fd`; returns the bytes written. */
static __always_inline __u32 write_socket_info(__u8 *dst, struct task_struct *task, long fd) {
  struct file *file = fd_to_file(task, fd);
  if (!file) return 0;
  if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK) return 0;

  struct socket *sock = BPF_CORE_READ(file, private_data);
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk) return 0;

  struct pg_socket_info *info = (struct pg_socket_info *)dst;
  __builtin_memset(info, 0, sizeof(*info));
  info->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  info->type = BPF_CORE_READ(sk, sk_type);
  info->protocol = BPF_CORE_READ(sk, sk_protocol);
  info->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  info->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));

  if (info->family == AF_INET) {
    bpf_core_read(info->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
    bpf_core_read(info->remote_addr, 4, &sk->__sk_common.skc_daddr);
  } else if (info->family == AF_INET6) {
    bpf_core_read(info->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    bpf_core_read(info->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
  } else if (info->family == AF_UNIX) {
    return sizeof(*info) + write_unix_path(dst + sizeof(*info), sk);
  }
  return sizeof(*info);
}

static __always_inline __u32 read_user_sockaddr(__u8 *dst, __u64 ptr, long user_len) {
  __u64 len = clamp_len(user_len, PG_MAX_SOCKADDR_BYTES, 0xff);
  if (ptr == 0 || len == 0) return 0;
  if (bpf_probe_read_user(dst, len, (void *)ptr) != 0) {
    count(PG_COUNTER_READ_FAILED);
    return 0;
  }
  return len;
}

static __always_inline __u32 read_user_string(__u8 *dst, __u64 ptr) {
  if (ptr == 0) return 0;
  long n = bpf_probe_read_user_str(dst, PG_MAX_PATH_BYTES, (void *)ptr);
  if (n < 0) {
    count(PG_COUNTER_READ_FAILED);
    return 0;
  }
  return n;
}

/* Writes the blob of one argument at dst; returns its length (0 when there is none). */
static __always_inline __u32 write_arg_blob(__u8 *dst, __u8 kind, __u8 len_arg, const __u64 *args,
                                            __u64 value, long res, struct task_struct *task) {
  __u64 len_value = len_arg < 6 ? args[len_arg & 7] : 0;
  int user_len = 0;

  switch (kind) {
    case PG_ARG_STRING:
      return read_user_string(dst, value);
    case PG_ARG_SOCKADDR:
      return read_user_sockaddr(dst, value, (long)len_value);
    case PG_ARG_SOCKADDR_LENPTR:
      if (res < 0 || len_value == 0) return 0;
      if (bpf_probe_read_user(&user_len, sizeof(user_len), (void *)len_value) != 0) {
        count(PG_COUNTER_READ_FAILED);
        return 0;
      }
      return read_user_sockaddr(dst, value, user_len);
    case PG_ARG_U64_AT:
      if (value == 0) return 0;
      if (bpf_probe_read_user(dst, sizeof(__u64), (void *)value) != 0) {
        count(PG_COUNTER_READ_FAILED);
        return 0;
      }
      return sizeof(__u64);
    case PG_ARG_SOCKET:
      return write_socket_info(dst, task, (long)(int)value);
    default:
      return 0;
  }
}

static __always_inline __u32 write_res_blob(__u8 *dst, __u8 kind, long res,
                                            struct task_struct *task) {
  if (res < 0) return 0;
  if (kind == PG_RES_FILE) return write_file_info(dst, task, res);
  if (kind == PG_RES_SOCKET) return write_socket_info(dst, task, res);
  return 0;
}

static __always_inline long syscall_nr_at_exit(struct pt_regs *regs) {
#ifdef __TARGET_ARCH_x86
  return BPF_CORE_READ(regs, orig_ax);
#else
#error "only x86_64 is supported: the syscall number register and the spec table are x86_64's"
#endif
}

/* The x86_64 syscall ABI passes arguments in rdi, rsi, rdx, r10, r8 and r9. */
static __always_inline void read_syscall_args(struct pt_regs *regs, __u64 *args) {
  args[0] = BPF_CORE_READ(regs, di);
  args[1] = BPF_CORE_READ(regs, si);
  args[2] = BPF_CORE_READ(regs, dx);
  args[3] = BPF_CORE_READ(regs, r10);
  args[4] = BPF_CORE_READ(regs, r8);
  args[5] = BPF_CORE_READ(regs, r9);
}

SEC("raw_tracepoint/sys_enter")
int pg_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
  long id = (long)ctx->args[1];
  if (id < 0 || id >= PG_MAX_SYSCALL_NR) return 0;

  __u32 key = id;
  struct pg_syscall_spec *spec = bpf_map_lookup_elem(&syscall_specs, &key);
  if (!spec || !spec->enabled) return 0;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if ((__u32)(pid_tgid >> 32) == ignored_tgid) return 0;

  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  if (is_compat_syscall(task)) {
    count(PG_COUNTER_COMPAT_SKIPPED);
    return 0;
  }

  struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
  struct pg_stash entry = {.nr = key};
  read_syscall_args(regs, entry.args);

  __u32 tid = (__u32)pid_tgid;
  if (bpf_map_update_elem(&stash, &tid, &entry, BPF_ANY) != 0) count(PG_COUNTER_STASH_FULL);
  return 0;
}

/*
 * After a successful execveat the syscall number register reads as execve's at sys_exit (seen on
 * Linux 6.18), so for execve exits the number stashed at entry decides. Other exits keep the
 * register's number, which spares them this hash lookup.
 */
static __always_inline long exec_nr_from_stash(long id) {
  if (id != NR_EXECVE) return id;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct pg_stash *entry = bpf_map_lookup_elem(&stash, &tid);
  return entry && entry->nr == NR_EXECVEAT ? NR_EXECVEAT : id;
}

SEC("raw_tracepoint/sys_exit")
int pg_sys_exit(struct bpf_raw_tracepoint_args *ctx) {
  /* Looking the number up in the spec array first keeps the hash lookup off untraced syscalls. */
  long id = exec_nr_from_stash(syscall_nr_at_exit((struct pt_regs *)ctx->args[0]));
  if (id < 0 || id >= PG_MAX_SYSCALL_NR) return 0;

  __u32 key = id;
  struct pg_syscall_spec *spec = bpf_map_lookup_elem(&syscall_specs, &key);
  if (!spec || !spec->enabled) return 0;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  struct pg_stash *entry = bpf_map_lookup_elem(&stash, &tid);
  if (!entry) {
    if ((__u32)(pid_tgid >> 32) != ignored_tgid) count(PG_COUNTER_EXIT_WITHOUT_ENTER);
    return 0;
  }

  struct pg_scratch *sc = get_scratch();
  if (!sc || entry->nr != key) {
    bpf_map_delete_elem(&stash, &tid);
    return 0;
  }

  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct pg_syscall *rec = (struct pg_syscall *)sc->data;
  long res = (long)ctx->args[1];
  fill_header(&rec->hdr, PG_KIND_SYSCALL, task);
  rec->nr = key;
  rec->res = res;
  __builtin_memcpy(rec->args, entry->args, sizeof(rec->args));
  bpf_map_delete_elem(&stash, &tid);

  int skip_reads = (spec->flags & PG_SPEC_NO_READ_ON_SUCCESS) && res == 0;
  __u32 off = sizeof(*rec);
#pragma unroll
  for (int i = 0; i < 6; i++) {
    rec->blob_len[i] = 0;
    __u8 kind = spec->arg_kind[i];
    if (kind == PG_ARG_VALUE || skip_reads) continue;
    if (off > PG_MAX_RECORD_BYTES - PG_MAX_PATH_BYTES) break;
    __u32 n = write_arg_blob(at_offset(sc->data, off), kind, spec->len_arg[i], rec->args,
                             rec->args[i], res, task);
    rec->blob_len[i] = n;
    off += n;
  }

  rec->blob_len[6] = 0;
  if (spec->res_kind != PG_RES_VALUE && off <= PG_MAX_RECORD_BYTES - PG_MAX_PATH_BYTES) {
    __u32 n = write_res_blob(at_offset(sc->data, off), spec->res_kind, res, task);
    rec->blob_len[6] = n;
    off += n;
  }

  rec->hdr.size = off;
  emit(sc->data, off);
  return 0;
}

static __always_inline __u32 pid_nr_in_own_ns(struct pid *pid) {
  if (!pid) return 0;
  unsigned int level = BPF_CORE_READ(pid, level);
  struct upid upid = {};
  bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level & 31]);
  return upid.nr;
}

static __always_inline __u32 signal_pid_nr(struct task_struct *task, int type) {
  struct pid *pid = NULL;
  struct signal_struct *signal = BPF_CORE_READ(task, signal);
  bpf_probe_read_kernel(&pid, sizeof(pid), &signal->pids[type & 3]);
  if (!pid) return 0;
  return BPF_CORE_READ(pid, numbers[0].nr);
}

static __always_inline __u32 tty_of(struct task_struct *task) {
  struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
  if (!tty) return 0;
  int index = BPF_CORE_READ(tty, index);
  int major = BPF_CORE_READ(tty, driver, major);
  int minor_start = BPF_CORE_READ(tty, driver, minor_start);
  return encode_dev(major, minor_start + index);
}

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn) {
  if (bpf_core_field_exists(struct kernfs_node___new, __parent))
    return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
  return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static __always_inline struct cgroup *task_cgroup(struct task_struct *task) {
  if (use_unified_cgroup) return BPF_CORE_READ(task, cgroups, dfl_cgrp);

  int id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
  struct css_set *cset = BPF_CORE_READ(task, cgroups);
  struct cgroup_subsys_state *css = NULL;
  bpf_probe_read_kernel(&css, sizeof(css), &cset->subsys[id & 15]);
  return css ? BPF_CORE_READ(css, cgroup) : NULL;
}

static __always_inline __u8 *at_cgroup_offset(__u8 *dst, __u64 pos) {
  asm volatile("%[pos] &= %[mask]" : [pos] "+r"(pos) : [mask] "i"(PG_MAX_CGROUP_BYTES - 1));
  return dst + pos;
}

/*
 * Writes the task's cgroup path ("/docker/<id>") from its kernfs names, bottom-up into a
 * fixed array and then top-down into dst. Returns the bytes written, without a NUL.
 */
static __always_inline __u32 write_cgroup_path(__u8 *dst, struct task_struct *task) {
  struct cgroup *cgrp = task_cgroup(task);
  if (!cgrp) return 0;

  const char *names[PG_MAX_CGROUP_DEPTH] = {};
  struct kernfs_node *kn = BPF_CORE_READ(cgrp, kn);
#pragma unroll
  for (int i = 0; i < PG_MAX_CGROUP_DEPTH; i++) {
    struct kernfs_node *parent = kn ? kernfs_parent(kn) : NULL;
    if (!parent) break;
    names[i] = BPF_CORE_READ(kn, name);
    kn = parent;
  }

  __u32 pos = 0;
#pragma unroll
  for (int i = PG_MAX_CGROUP_DEPTH - 1; i >= 0; i--) {
    if (!names[i]) continue;
    if (pos > PG_MAX_CGROUP_BYTES - CGROUP_NAME_BYTES - 1) break;
    *at_cgroup_offset(dst, pos) = '/';
    pos++;
    long n = bpf_probe_read_kernel_str(at_cgroup_offset(dst, pos), CGROUP_NAME_BYTES, names[i]);
    if (n > 1) pos += n - 1;
  }
  if (pos == 0) {
    dst[0] = '/';
    pos = 1;
  }
  return pos;
}

static __always_inline __u32 read_user_range(__u8 *dst, unsigned long start, unsigned long end,
                                             __u32 max_bytes) {
  if (start == 0 || end <= start) return 0;
  __u64 len = clamp_len(end - start, max_bytes, PG_MAX_PATH_BYTES * 2 - 1);
  if (len == 0) return 0;
  if (bpf_probe_read_user(dst, len, (void *)start) != 0) {
    count(PG_COUNTER_READ_FAILED);
    return 0;
  }
  return len;
}

static __always_inline void fill_exec_fixed(struct pg_exec *rec, struct task_struct *task,
                                            struct linux_binprm *bprm) {
  rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
  rec->loginuid = PG_NO_LOGINUID;
  if (bpf_core_field_exists(task->loginuid)) rec->loginuid = BPF_CORE_READ(task, loginuid.val);
  rec->sid = signal_pid_nr(task, PIDTYPE_SID);
  rec->pgid = signal_pid_nr(task, PIDTYPE_PGID);
  rec->tty = tty_of(task);
  rec->vpid = pid_nr_in_own_ns(BPF_CORE_READ(task, thread_pid));
  rec->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);

  const struct cred *cred = BPF_CORE_READ(task, cred);
  bpf_probe_read_kernel(&rec->cap_permitted, sizeof(__u64), &cred->cap_permitted);
  bpf_probe_read_kernel(&rec->cap_effective, sizeof(__u64), &cred->cap_effective);
  bpf_probe_read_kernel(&rec->cap_inheritable, sizeof(__u64), &cred->cap_inheritable);

  struct file *exe = BPF_CORE_READ(bprm, file);
  struct inode *inode = BPF_CORE_READ(exe, f_inode);
  rec->exe_ino = BPF_CORE_READ(inode, i_ino);
  rec->exe_dev = encode_kernel_dev(BPF_CORE_READ(inode, i_sb, s_dev));
  rec->exe_uid = BPF_CORE_READ(inode, i_uid.val);
  rec->exe_gid = BPF_CORE_READ(inode, i_gid.val);
  rec->exe_mode = BPF_CORE_READ(inode, i_mode);
  rec->exe_flags = is_memfd(exe) ? PG_EXE_FROM_MEMFD : 0;
  rec->reserved = 0;
  __builtin_memset(rec->comm, 0, sizeof(rec->comm));
  bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), &task->comm);
}

/* A non-leader thread that execs takes the leader's tid, and its execve returns under that tid. */
static __always_inline void move_stash(__u32 old_tid, __u32 new_tid) {
  struct pg_stash *entry = bpf_map_lookup_elem(&stash, &old_tid);
  if (!entry) return;
  struct pg_stash copy = *entry;
  bpf_map_delete_elem(&stash, &old_tid);
  bpf_map_update_elem(&stash, &new_tid, &copy, BPF_ANY);
}

SEC("raw_tracepoint/sched_process_exec")
int pg_sched_process_exec(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *task = (struct task_struct *)ctx->args[0];
  struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
  struct pg_scratch *sc = get_scratch();
  if (!sc) return 0;

  struct pg_exec *rec = (struct pg_exec *)sc->data;
  fill_header(&rec->hdr, PG_KIND_EXEC, task);
  rec->old_tid = (__u32)ctx->args[1];
  if (rec->old_tid != rec->hdr.tid) move_stash(rec->old_tid, rec->hdr.tid);
  fill_exec_fixed(rec, task, bprm);

  __u32 off = sizeof(*rec);
  long n =
      bpf_probe_read_kernel_str(sc->data + off, PG_MAX_PATH_BYTES, BPF_CORE_READ(bprm, filename));
  rec->filename_len = n > 0 ? n : 0;
  off += rec->filename_len;

  struct mm_struct *mm = BPF_CORE_READ(task, mm);
  rec->argv_len = read_user_range(at_offset(sc->data, off), BPF_CORE_READ(mm, arg_start),
                                  BPF_CORE_READ(mm, arg_end), PG_MAX_ARGV_BYTES);
  off += rec->argv_len;
  rec->env_len = read_user_range(at_offset(sc->data, off), BPF_CORE_READ(mm, env_start),
                                 BPF_CORE_READ(mm, env_end), PG_MAX_ENV_BYTES);
  off += rec->env_len;
  rec->cgroup_len = write_cgroup_path(at_offset(sc->data, off), task);
  off += rec->cgroup_len;

  rec->hdr.size = off;
  emit(sc->data, off);
  return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int pg_sched_process_fork(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *parent = (struct task_struct *)ctx->args[0];
  struct task_struct *child = (struct task_struct *)ctx->args[1];
  struct pg_fork rec = {};

  fill_header(&rec.hdr, PG_KIND_FORK, parent);
  rec.hdr.size = sizeof(rec);
  rec.child_pid = BPF_CORE_READ(child, tgid);
  rec.child_tid = BPF_CORE_READ(child, pid);
  rec.child_ppid = BPF_CORE_READ(child, real_parent, tgid);
  rec.flags = rec.child_pid == rec.hdr.pid ? PG_TASK_IS_THREAD : 0;
  rec.child_start_ns = BPF_CORE_READ(child, start_boottime);
  rec.child_vpid = pid_nr_in_own_ns(BPF_CORE_READ(child, group_leader, thread_pid));
  rec.child_vtid = pid_nr_in_own_ns(BPF_CORE_READ(child, thread_pid));
  emit(&rec, sizeof(rec));
  return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int pg_sched_process_exit(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *task = (struct task_struct *)ctx->args[0];
  struct pg_exit rec = {};

  fill_header(&rec.hdr, PG_KIND_EXIT, task);
  rec.hdr.size = sizeof(rec);
  rec.exit_code = BPF_CORE_READ(task, exit_code);
  /* do_exit() decrements signal->live before this tracepoint, so 0 means the group is gone. */
  rec.flags = BPF_CORE_READ(task, signal, live.counter) == 0 ? PG_TASK_GROUP_DEAD : 0;

  __u32 tid = rec.hdr.tid;
  bpf_map_delete_elem(&stash, &tid);
  emit(&rec, sizeof(rec));
  return 0;
}

SEC("raw_tracepoint/cgroup_attach_task")
int pg_cgroup_attach_task(struct bpf_raw_tracepoint_args *ctx) {
  struct cgroup *dst = (struct cgroup *)ctx->args[0];
  const char *path = (const char *)ctx->args[1];
  struct task_struct *task = (struct task_struct *)ctx->args[2];
  struct pg_scratch *sc = get_scratch();
  if (!sc) return 0;

  struct pg_cgroup *rec = (struct pg_cgroup *)sc->data;
  fill_header(&rec->hdr, PG_KIND_CGROUP, (struct task_struct *)bpf_get_current_task());
  rec->target_pid = BPF_CORE_READ(task, tgid);
  rec->target_tid = BPF_CORE_READ(task, pid);
  rec->hierarchy_id = BPF_CORE_READ(dst, root, hierarchy_id);
  rec->flags = ctx->args[3] ? PG_CGROUP_THREADGROUP : 0;

  long n = bpf_probe_read_kernel_str(sc->data + sizeof(*rec), PG_MAX_CGROUP_BYTES, path);
  rec->path_len = n > 1 ? n - 1 : 0;
  rec->hdr.size = sizeof(*rec) + rec->path_len;
  emit(sc->data, rec->hdr.size);
  return 0;
}
