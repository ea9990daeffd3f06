/*
 * A benchmark guest program for Linux: reads or writes of one block size
 * with O_DIRECT on a block device, random or sequential, at a fixed queue
 * depth, through io_uring, for a number of seconds. Static, so it runs in
 * the test initramfs without fio's eighty megabytes of libraries. It
 * prints one line the host reads:
 *
 *   disk-iops: DEVICE qd N MODE BS: IOS ios in SECONDS s, IOPS iops, LAT us mean latency, P50 us p50, P99 us p99
 *
 * Usage: disk-iops DEVICE QUEUE_DEPTH SECONDS [randread|randwrite|read|write] [BLOCK_BYTES]
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 256
#define MAX_BLOCK (1u << 20)

struct job {
	int fd;
	bool write, random;
	unsigned block;
	uint64_t blocks;              /* of the device, in units of block */
	uint64_t next_block;          /* sequential: where the next I/O goes */
	uint64_t seed;
	float *latency_us;            /* every I/O's, for the percentiles */
	size_t nr_latencies, max_latencies;
};

struct slot {
	void *buf;
	double issued;
};

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

static off_t next_offset(struct job *j)
{
	uint64_t b = j->random ? next_random(&j->seed) % j->blocks : j->next_block++ % j->blocks;
	return (off_t)(b * j->block);
}

static void queue_one(struct io_uring *ring, struct job *j, struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	off_t off = next_offset(j);

	if (j->write)
		io_uring_prep_write(sqe, j->fd, s->buf, j->block, off);
	else
		io_uring_prep_read(sqe, j->fd, s->buf, j->block, off);
	io_uring_sqe_set_data(sqe, s);
	s->issued = now_s();
}

static void record_latency(struct job *j, double seconds)
{
	if (j->nr_latencies == j->max_latencies) {
		size_t more = j->max_latencies ? j->max_latencies * 2 : 65536;
		float *p = realloc(j->latency_us, more * sizeof(*p));
		if (!p)
			return;   /* the percentiles then describe the I/Os recorded so far */
		j->latency_us = p;
		j->max_latencies = more;
	}
	j->latency_us[j->nr_latencies++] = (float)(seconds * 1e6);
}

static int compare_floats(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

static double percentile(const struct job *j, double p)
{
	if (j->nr_latencies == 0)
		return 0;
	size_t i = (size_t)(p * (double)(j->nr_latencies - 1) + 0.5);
	return j->latency_us[i];
}

static int parse_job(int argc, char **argv, struct job *j, unsigned *depth, double *seconds)
{
	const char *mode = argc > 4 ? argv[4] : "randread";

	*depth = (unsigned)atoi(argv[2]);
	*seconds = atof(argv[3]);
	j->block = argc > 5 ? (unsigned)atoi(argv[5]) : 4096;
	j->write = !strcmp(mode, "randwrite") || !strcmp(mode, "write");
	j->random = !strncmp(mode, "rand", 4);
	j->seed = 0x9e3779b97f4a7c15ull;
	if (strcmp(mode, "randread") && strcmp(mode, "randwrite") && strcmp(mode, "read") && strcmp(mode, "write")) {
		fprintf(stderr, "disk-iops: mode randread, randwrite, read or write, not %s\n", mode);
		return -1;
	}
	if (*depth < 1 || *depth > MAX_DEPTH || *seconds <= 0 || j->block < 512 || j->block > MAX_BLOCK ||
	    j->block % 512) {
		fprintf(stderr, "disk-iops: queue depth 1..%d, a positive time, a block of 512 bytes to 1 MiB\n",
			MAX_DEPTH);
		return -1;
	}
	return 0;
}

static int open_device(const char *path, struct job *j)
{
	uint64_t bytes = 0;

	j->fd = open(path, (j->write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (j->fd < 0 || ioctl(j->fd, BLKGETSIZE64, &bytes) < 0 || bytes < j->block) {
		fprintf(stderr, "disk-iops: %s: %s\n", path, j->fd < 0 ? strerror(errno) : "too small or not a disk");
		return -1;
	}
	j->blocks = bytes / j->block;
	return 0;
}

/* Keeps depth I/Os in flight until the time is up, then waits for the last; the count done. */
static int64_t run(struct io_uring *ring, struct job *j, struct slot *slots, unsigned depth, double seconds)
{
	double end = now_s() + seconds;
	unsigned in_flight = depth;
	int64_t ios = 0;

	for (unsigned i = 0; i < depth; i++)
		queue_one(ring, j, &slots[i]);
	io_uring_submit(ring);
	while (in_flight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(ring, &cqe);
		if (r < 0) {
			fprintf(stderr, "disk-iops: io_uring_wait_cqe: %s\n", strerror(-r));
			return -1;
		}
		struct slot *s = io_uring_cqe_get_data(cqe);
		if (cqe->res != (int)j->block) {
			fprintf(stderr, "disk-iops: I/O failed: %s\n", strerror(cqe->res < 0 ? -cqe->res : EIO));
			return -1;
		}
		io_uring_cqe_seen(ring, cqe);
		double t = now_s();
		record_latency(j, t - s->issued);
		ios++;
		in_flight--;
		if (t < end) {
			queue_one(ring, j, s);
			in_flight++;
			io_uring_submit(ring);
		}
	}
	return ios;
}

int main(int argc, char **argv)
{
	struct job j = { 0 };
	struct io_uring ring;
	struct slot slots[MAX_DEPTH];
	unsigned depth;
	double seconds;

	if (argc < 4) {
		fprintf(stderr, "usage: disk-iops DEVICE QUEUE_DEPTH SECONDS [randread|randwrite|read|write] [BLOCK_BYTES]\n");
		return 2;
	}
	if (parse_job(argc, argv, &j, &depth, &seconds) < 0)
		return 2;
	if (open_device(argv[1], &j) < 0)
		return 1;
	int r = io_uring_queue_init(depth, &ring, 0);
	if (r < 0) {
		fprintf(stderr, "disk-iops: io_uring_queue_init: %s\n", strerror(-r));
		return 1;
	}
	for (unsigned i = 0; i < depth; i++) {
		if (posix_memalign(&slots[i].buf, 4096, j.block))
			return 1;
		memset(slots[i].buf, (int)i, j.block);
	}
	double start = now_s();
	int64_t ios = run(&ring, &j, slots, depth, seconds);
	double took = now_s() - start;
	if (ios <= 0)
		return 1;
	double mean = 0;
	for (size_t i = 0; i < j.nr_latencies; i++)
		mean += j.latency_us[i];
	mean /= (double)(j.nr_latencies ? j.nr_latencies : 1);
	qsort(j.latency_us, j.nr_latencies, sizeof(float), compare_floats);
	printf("disk-iops: %s qd %u %s %u: %lld ios in %.2f s, %.0f iops, %.1f us mean latency, %.1f us p50, "
	       "%.1f us p99\n", argv[1], depth, argc > 4 ? argv[4] : "randread", j.block, (long long)ios, took,
	       (double)ios / took, mean, percentile(&j, 0.50), percentile(&j, 0.99));
	return 0;
}
