/*
 * Least privilege once the VM is built: each thread, as it starts its
 * work, drops every capability (with the bounding set), sets
 * no_new_privs, and installs a seccomp filter that allows the system calls
 * its kind of thread makes and nothing else; ioctls only with the
 * requests vmm uses at run time (KVM_RUN, IRQ lines and routes, irqfds,
 * ioeventfds, a tap's offloads and queues, the terminal), never those that
 * create VMs or map memory (but on a machine with flash, below). A
 * forbidden call gets SIGSYS; the handler says
 * which thread made which call and ends vmm with status 159 (128 + SIGSYS).
 */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <stdbool.h>

enum sandbox_thread {
	SANDBOX_MAIN,       /* the main loop: signals, console input, stopping */
	SANDBOX_VCPU,       /* KVM_RUN and the devices' register accesses */
	SANDBOX_IO,         /* kicks, disk completions, frames, libslirp's sockets */
	SANDBOX_NAT,        /* libslirp's poll loop */
	SANDBOX_DISK,       /* aio=threads workers: preadv, pwritev2, fdatasync, fallocate */
	SANDBOX_KINDS,
};

/* On by default; off for debugging (--seccomp off) and in sanitizer builds. */
void sandbox_configure(bool on);
/*
 * A machine with flash (UEFI's variable store, devices/pflash.c) maps and
 * unmaps its slot as the guest switches the flash's read mode, and writes
 * what the guest programs to the store's file, on the vCPU thread that
 * wrote the command: vCPU threads may then set memory slots (any slot: the
 * filter cannot look into the ioctl's argument) and pwrite. Called before
 * the threads start.
 */
void sandbox_allow_flash(void);
/* Confines the calling thread; a failure is reported and ends vmm (the sandbox is not optional). */
void sandbox_enter(enum sandbox_thread kind);
const char *sandbox_thread_name(enum sandbox_thread kind);

#endif
