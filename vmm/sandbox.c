/* Capabilities dropped, no_new_privs, and a seccomp allow-list per kind of thread; see sandbox.h. */
#include "sandbox.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILTER 256
#define STATUS_FORBIDDEN (128 + SIGSYS)

static bool enabled = true;
static __thread int this_kind = -1;
static bool flash;
static atomic_flag reported = ATOMIC_FLAG_INIT;

static const char *const kind_names[SANDBOX_KINDS] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_IO] = "io",
	[SANDBOX_NAT] = "nat", [SANDBOX_DISK] = "disk",
};

const char *sandbox_thread_name(enum sandbox_thread kind)
{
	return kind_names[kind];
}

/* What every thread needs of glibc: memory, locks, signals, time, ending, stderr. */
static const int common_calls[] = {
	SYS_futex, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_brk, SYS_mremap,
	SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigaction, SYS_sigaltstack, SYS_restart_syscall,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday, SYS_sched_yield,
	SYS_getpid, SYS_gettid, SYS_tgkill, SYS_exit, SYS_exit_group, SYS_write, SYS_read, SYS_close,
	SYS_set_robust_list, SYS_rseq, SYS_getrandom,
};

/* Beyond the common ones, by thread kind (measured with strace -ff on every device and backend). */
static const int main_calls[] = {
	SYS_epoll_create1, SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_ctl, SYS_pread64, SYS_fcntl, SYS_io_uring_enter,
	SYS_io_uring_register, SYS_fdatasync, SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_timerfd_settime,
};
static const int vcpu_calls[] = {
	SYS_epoll_ctl, SYS_eventfd2, SYS_io_uring_enter, SYS_fdatasync, SYS_timerfd_settime,
};
static const int io_calls[] = {
	SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_ctl, SYS_readv, SYS_writev, SYS_io_uring_enter,
	SYS_fdatasync, SYS_fcntl, SYS_socket, SYS_connect, SYS_bind, SYS_listen, SYS_accept, SYS_accept4,
	SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername, SYS_sendto, SYS_sendmsg,
	SYS_recvfrom, SYS_recvmsg, SYS_shutdown, SYS_poll, SYS_ppoll, SYS_timerfd_settime,
};
static const int nat_calls[] = {
	SYS_poll, SYS_ppoll, SYS_socket, SYS_connect, SYS_bind, SYS_listen, SYS_accept, SYS_accept4,
	SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername, SYS_sendto, SYS_sendmsg,
	SYS_recvfrom, SYS_recvmsg, SYS_shutdown, SYS_fcntl,
};
static const int disk_calls[] = {
	SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev, SYS_preadv2, SYS_pwritev2, SYS_fdatasync,
	SYS_fsync, SYS_fallocate,
};

/* The ioctls vmm makes once the VM runs. Not among them: creating VMs and vCPUs, memory slots. */
static const unsigned long run_time_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_TRANSLATE, KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS, KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_GET_FPU, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS,
	KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD, KVM_REGISTER_COALESCED_MMIO,
	KVM_UNREGISTER_COALESCED_MMIO, KVM_GET_STATS_FD, TUNSETOFFLOAD, TUNSETQUEUE, TCGETS, TCSETS,
	TCSETSW, TCSETSF, FIONREAD, FIONBIO,
};

static const struct {
	const int *calls;
	size_t n;
} kind_calls[SANDBOX_KINDS] = {
#define LIST(a) { a, sizeof(a) / sizeof(a[0]) }
	[SANDBOX_MAIN] = LIST(main_calls), [SANDBOX_VCPU] = LIST(vcpu_calls), [SANDBOX_IO] = LIST(io_calls),
	[SANDBOX_NAT] = LIST(nat_calls), [SANDBOX_DISK] = LIST(disk_calls),
#undef LIST
};

struct filter {
	struct sock_filter insn[MAX_FILTER];
	unsigned n;
};

static void emit(struct filter *f, struct sock_filter insn)
{
	if (f->n < MAX_FILTER)
		f->insn[f->n++] = insn;
}

static void allow_calls(struct filter *f, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)calls[i], 0, 1));
		emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
}

void sandbox_allow_flash(void)
{
	flash = true;
}

/*
 * x86-64 only (x32 numbers refused), the kind's calls, and ioctl with a
 * run-time request (the kernel takes the request's low 32 bits).
 */
static unsigned build(struct filter *f, enum sandbox_thread kind)
{
	unsigned long ioctls[sizeof(run_time_ioctls) / sizeof(run_time_ioctls[0]) + 1];
	size_t nr_ioctls = sizeof(run_time_ioctls) / sizeof(run_time_ioctls[0]);

	memcpy(ioctls, run_time_ioctls, sizeof(run_time_ioctls));
	if (flash && kind == SANDBOX_VCPU)
		ioctls[nr_ioctls++] = KVM_SET_USER_MEMORY_REGION;
	f->n = 0;
	emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, (unsigned char)(2 * nr_ioctls + 2)));
	emit(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
	for (size_t i = 0; i < nr_ioctls; i++) {
		emit(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)ioctls[i], 0, 1));
		emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
	emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	allow_calls(f, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	allow_calls(f, kind_calls[kind].calls, kind_calls[kind].n);
	if (flash && kind == SANDBOX_VCPU)
		allow_calls(f, (const int[]){ SYS_pwrite64 }, 1);
	emit(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	return f->n;
}

/* Async-signal-safe: the report is assembled by hand and written in one call. */
static void append(char *buf, size_t *at, size_t size, const char *s)
{
	while (*s && *at + 1 < size)
		buf[(*at)++] = *s++;
}

static void append_number(char *buf, size_t *at, size_t size, long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (n && *at + 1 < size)
		buf[(*at)++] = digits[--n];
}

static void forbidden(int sig, siginfo_t *si, void *ctx)
{
	char msg[200];
	size_t at = 0;
	struct termios tty;

	(void)sig;
	(void)ctx;
	/* One line however many threads trip at once: later ones wait for the first one's exit_group. */
	if (atomic_flag_test_and_set(&reported))
		for (;;)
			syscall(SYS_nanosleep, &(struct timespec){ .tv_sec = 1 }, NULL);
	append(msg, &at, sizeof(msg), "vmm: seccomp: the ");
	append(msg, &at, sizeof(msg), this_kind >= 0 ? kind_names[this_kind] : "unknown");
	append(msg, &at, sizeof(msg), " thread made system call ");
	append_number(msg, &at, sizeof(msg), si->si_syscall);
	append(msg, &at, sizeof(msg), ", which it may not; vmm stops (--seccomp off allows it)\n");
	if (write(STDERR_FILENO, msg, at) < 0)
		msg[0] = 0;
	/* A raw terminal goes back to cooked mode, as on every other way out. */
	if (tcgetattr(STDIN_FILENO, &tty) == 0 && !(tty.c_lflag & ICANON)) {
		tty.c_lflag |= ICANON | ECHO | ISIG | IEXTEN;
		tty.c_iflag |= ICRNL;
		tty.c_oflag |= OPOST;
		tcsetattr(STDIN_FILENO, TCSANOW, &tty);
	}
	syscall(SYS_exit_group, STATUS_FORBIDDEN);
}

void sandbox_configure(bool on)
{
	enabled = on;
	/* glibc's free() may give the top of a thread arena's heap back, and the first time it
	 * does it opens /proc/sys/vm/overcommit_memory: an openat no filter allows, met when the
	 * main thread frees what a device allocated on another thread (linux.nvme found it).
	 * Without trimming, freed memory stays for reuse; vmm frees little before it exits. */
	if (on)
		mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

static void drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2] = { { 0 } };

	for (unsigned long cap = 0; cap <= CAP_LAST_CAP; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);   /* EPERM without CAP_SETPCAP: nothing to drop */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, none) < 0)
		fprintf(stderr, "vmm: cannot drop capabilities: %s\n", strerror(errno));
}

static void die(const char *what)
{
	fprintf(stderr, "vmm: sandbox: %s: %s\n", what, strerror(errno));
	syscall(SYS_exit_group, 1);
}

/* VMM_SECCOMP_SELFTEST=KIND: that thread makes a forbidden call right away (tests/integration). */
static void self_test(enum sandbox_thread kind)
{
	const char *which = getenv("VMM_SECCOMP_SELFTEST");

	if (which && !strcmp(which, kind_names[kind]))
		syscall(SYS_personality, 0xffffffffUL);
}

void sandbox_enter(enum sandbox_thread kind)
{
	struct filter f;
	struct sigaction sa = { .sa_sigaction = forbidden, .sa_flags = SA_SIGINFO };

	this_kind = kind;
	if (!enabled) {
		self_test(kind);
		return;
	}
	drop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	sigaction(SIGSYS, &sa, NULL);
	struct sock_fprog prog = { (unsigned short)build(&f, kind), f.insn };
	if (f.n == MAX_FILTER)
		die("the filter is too long");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		die("seccomp");
	self_test(kind);
}
