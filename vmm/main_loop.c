/*
 * Running a VM: vCPU threads do KVM_RUN while the main thread waits in
 * epoll for a stop request, a signal or console input; then it stops every
 * vCPU, joins them and reports.
 *
 * While devices have coalesced MMIO zones the main thread also drains
 * KVM's buffer of their writes every COALESCED_DRAIN_MS. A vCPU drains it
 * at each of its exits, but one that writes and then halts (with the
 * in-kernel APIC, an exit vmm never sees) would leave its last writes
 * there: a posted write, as on PCI, is late, but never lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sandbox.h"
#include "serial.h"
#include "stats.h"
#include "vm.h"

static void ignore_signal(int sig)
{
	(void)sig;
}

/*
 * SIGINT and SIGTERM will arrive through a signalfd, so they are blocked
 * before any thread exists (every thread inherits the mask): one that
 * reached a thread with them open would kill vmm outright, terminal raw
 * and no --stats. SIGUSR1 only interrupts KVM_RUN.
 */
void vm_block_signals(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = ignore_signal };

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&vm->stop_signals);
	sigaddset(&vm->stop_signals, SIGINT);
	sigaddset(&vm->stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &vm->stop_signals, NULL);
}

/* Console input waiting for room in the UART's receive FIFO. */
struct input {
	uint8_t buf[256];
	size_t off, len;
	bool open;        /* stdin has not reached EOF */
	bool watched;     /* stdin is in the epoll set */
	bool pollable;    /* epoll can watch stdin (not a regular file) */
};

enum { EV_STOP, EV_SIGNAL, EV_INPUT, EV_CONSOLE_READY };

#define COALESCED_DRAIN_MS 5

static void watch_input(struct vm *vm, int ep, struct input *in, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_INPUT };

	if (!in->pollable || on == in->watched)
		return;
	epoll_ctl(ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, vm->console.in_fd, &ev);
	in->watched = on;
}

/* Hands buffered input to the UART; watches stdin again once all is taken. */
static void feed_uart(struct vm *vm, int ep, struct input *in)
{
	in->off += serial_receive(vm->machine.serial, in->buf + in->off, in->len - in->off);
	if (in->off == in->len)
		in->off = in->len = 0;
	watch_input(vm, ep, in, in->open && in->len == 0);
}

static void read_console(struct vm *vm, int ep, struct input *in)
{
	size_t n = sizeof(in->buf);

	if (in->len)
		return;
	switch (console_read(&vm->console, in->buf, &n)) {
	case CONSOLE_INPUT_EOF:
		in->open = false;
		break;
	case CONSOLE_INPUT_ESCAPE:
		vm_request_stop(vm, VMM_EXIT_OK, "stopped from the console (Ctrl-])");
		break;
	case CONSOLE_INPUT_DATA:
		break;
	}
	in->len = n;
	feed_uart(vm, ep, in);
}

static void handle_event(struct vm *vm, int ep, int sigfd, struct input *in, uint32_t ev)
{
	struct signalfd_siginfo si;
	uint64_t count;
	char why[64];

	switch (ev) {
	case EV_SIGNAL:
		if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			snprintf(why, sizeof(why), "stopped by %s", strsignal((int)si.ssi_signo));
			vm_request_stop(vm, 128 + (int)si.ssi_signo, why);
		}
		break;
	case EV_INPUT:
		read_console(vm, ep, in);
		break;
	case EV_CONSOLE_READY:
		if (read(vm->console_ready_event, &count, sizeof(count)) == sizeof(count) && in->len)
			feed_uart(vm, ep, in);
		break;
	}
}

static int add_watch(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void event_loop(struct vm *vm, int sigfd)
{
	struct input in = { .open = vm->console.in_fd >= 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	add_watch(ep, vm->stop_event, EV_STOP);
	add_watch(ep, sigfd, EV_SIGNAL);
	add_watch(ep, vm->console_ready_event, EV_CONSOLE_READY);
	if (in.open) {
		in.pollable = add_watch(ep, vm->console.in_fd, EV_INPUT) == 0;
		in.watched = in.pollable;
	}
	while (!atomic_load(&vm->stopping)) {
		struct epoll_event evs[4];
		/* A regular file or /dev/null cannot be polled: it is always readable. */
		bool read_now = !in.pollable && in.open && !in.len;
		bool drain = atomic_load(&vm->kvm_irq.coalesced_zones) > 0;
		int n = epoll_wait(ep, evs, 4, read_now ? 0 : drain ? COALESCED_DRAIN_MS : -1);
		for (int i = 0; i < n; i++)
			handle_event(vm, ep, sigfd, &in, evs[i].data.u32);
		if (read_now)
			read_console(vm, ep, &in);
		if (drain)
			vcpu_flush_coalesced(&vm->vcpu_env);
	}
	close(ep);
}

int vm_run(struct vm *vm)
{
	int sigfd = signalfd(-1, &vm->stop_signals, SFD_CLOEXEC);
	unsigned started = 0;

	if (sigfd < 0) {
		fprintf(stderr, "vmm: signalfd: %s\n", strerror(errno));
		return VMM_EXIT_RUNTIME;
	}
	if (machine_start(&vm->machine) < 0) {
		fprintf(stderr, "vmm: cannot start the I/O thread\n");
		return VMM_EXIT_RUNTIME;
	}
	for (; started < vm->nr_vcpus; started++) {
		if (pthread_create(&vm->vcpus[started].thread, NULL, vcpu_thread, &vm->vcpus[started])) {
			vm_request_stop(vm, VMM_EXIT_RUNTIME, "cannot start a vCPU thread");
			break;
		}
	}
	sandbox_enter(SANDBOX_MAIN);
	event_loop(vm, sigfd);
	for (unsigned i = 0; i < started; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < started; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	machine_stop(&vm->machine);
	/*
	 * The stop signals stay blocked until vmm exits: `timeout` sends its
	 * SIGTERM to vmm and to its process group, and the second copy,
	 * pending once the signalfd has taken the first, would kill vmm
	 * before the stop reason and --stats were printed.
	 */
	close(sigfd);
	console_close(&vm->console);
	if (vm->stop_status != VMM_EXIT_OK)
		fprintf(stderr, "vmm: %s (exit status %d)\n", vm->stop_reason, vm->stop_status);
	if (vm->cfg.stats)
		stats_print(stderr, vm->vcpus, vm->nr_vcpus, &vm->machine);
	return vm->stop_status;
}

