/*
 * A benchmark guest program for Linux: random 4 KiB reads (or writes) with
 * O_DIRECT on a block device at a fixed queue depth, through io_uring, for
 * a number of seconds. Static, so it runs in the test initramfs without
 * fio's eighty megabytes of libraries. It prints one line the host reads:
 *
 *   disk-iops: DEVICE qd N read|write: IOS ios in SECONDS s, IOPS iops, LAT us mean latency
 *
 * Usage: disk-iops DEVICE QUEUE_DEPTH SECONDS [read|write]
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096u
#define MAX_DEPTH 256

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* xorshift64: the same offsets every run, no libc state. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct slot {
	void *buf;
	double issued;
};

static void queue_one(struct io_uring *ring, int fd, struct slot *s, uint64_t blocks, uint64_t *seed, bool write)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	off_t off = (off_t)(next_random(seed) % blocks) * BLOCK;

	if (write)
		io_uring_prep_write(sqe, fd, s->buf, BLOCK, off);
	else
		io_uring_prep_read(sqe, fd, s->buf, BLOCK, off);
	io_uring_sqe_set_data(sqe, s);
	s->issued = now_s();
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: disk-iops DEVICE QUEUE_DEPTH SECONDS [read|write]\n");
		return 2;
	}
	unsigned depth = (unsigned)atoi(argv[2]);
	double seconds = atof(argv[3]);
	bool write = argc > 4 && strcmp(argv[4], "write") == 0;
	int fd = open(argv[1], (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	uint64_t bytes = 0, seed = 0x9e3779b97f4a7c15ull;
	struct io_uring ring;
	struct slot slots[MAX_DEPTH];

	if (depth < 1 || depth > MAX_DEPTH || seconds <= 0) {
		fprintf(stderr, "disk-iops: queue depth 1..%d and a positive time\n", MAX_DEPTH);
		return 2;
	}
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0 || bytes < BLOCK) {
		fprintf(stderr, "disk-iops: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int r = io_uring_queue_init(depth, &ring, 0);
	if (r < 0) {
		fprintf(stderr, "disk-iops: io_uring_queue_init: %s\n", strerror(-r));
		return 1;
	}
	for (unsigned i = 0; i < depth; i++) {
		if (posix_memalign(&slots[i].buf, BLOCK, BLOCK))
			return 1;
		memset(slots[i].buf, (int)i, BLOCK);
		queue_one(&ring, fd, &slots[i], bytes / BLOCK, &seed, write);
	}
	io_uring_submit(&ring);

	double start = now_s(), end = start + seconds, latency = 0;
	uint64_t ios = 0;
	unsigned in_flight = depth;
	while (in_flight) {
		struct io_uring_cqe *cqe;
		if ((r = io_uring_wait_cqe(&ring, &cqe)) < 0) {
			fprintf(stderr, "disk-iops: io_uring_wait_cqe: %s\n", strerror(-r));
			return 1;
		}
		struct slot *s = io_uring_cqe_get_data(cqe);
		if (cqe->res != (int)BLOCK) {
			fprintf(stderr, "disk-iops: I/O failed: %s\n", strerror(cqe->res < 0 ? -cqe->res : EIO));
			return 1;
		}
		io_uring_cqe_seen(&ring, cqe);
		double t = now_s();
		latency += t - s->issued;
		ios++;
		in_flight--;
		if (t < end) {
			queue_one(&ring, fd, s, bytes / BLOCK, &seed, write);
			in_flight++;
			io_uring_submit(&ring);
		}
	}
	double took = now_s() - start;
	printf("disk-iops: %s qd %u %s: %llu ios in %.2f s, %.0f iops, %.1f us mean latency\n", argv[1], depth,
	       write ? "write" : "read", (unsigned long long)ios, took, ios / took, latency / ios * 1e6);
	return 0;
}
