/* The block engines (io_uring and the thread pool) on a temporary image, through the backend interface. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "block.h"
#include "suites.h"

#define IMAGE_BYTES (1u << 20)
#define DEPTH 32

static struct block_backend be;
static char image[64];
static struct {
	void *tag;
	int result;
} done[DEPTH];
static unsigned ndone;
static int completion_fd = -1;   /* what the engine asked the event loop to watch */
static uint8_t *buf;             /* page-aligned, 1 MiB */

static void on_complete(void *device, void *tag, int result)
{
	(void)device;
	ck_assert_uint_lt(ndone, DEPTH);
	done[ndone].tag = tag;
	done[ndone++].result = result;
}

static struct event_watch *fake_watch(void *ctx, int fd, event_fn *fn, void *arg)
{
	(void)ctx;
	(void)fn;
	(void)arg;
	completion_fd = fd;
	return (struct event_watch *)&completion_fd;
}

static int fake_enable(void *ctx, struct event_watch *w, bool on)
{
	(void)ctx;
	(void)w;
	(void)on;
	return 0;
}

static const struct event_loop_ops fake_loop_ops = { fake_watch, fake_enable };
static struct event_loop fake_loop = { &fake_loop_ops, NULL };

static void make_image(void)
{
	strcpy(image, "vmm-block-test-XXXXXX");
	int fd = mkstemp(image);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, IMAGE_BYTES), 0);
	close(fd);
}

static void open_engine(enum block_aio aio, enum block_cache cache, bool readonly)
{
	struct block_options o = { image, cache, aio, readonly, DEPTH, NULL };
	struct vmm_error err;

	ck_assert_msg(block_open(&be, &o, &err) == 0, "%s", err.msg);
	be.ops->set_completion(be.ctx, on_complete, NULL);
	ck_assert_int_eq(be.ops->watch(be.ctx, &fake_loop, NULL, NULL), 0);
	ndone = 0;
}

static void setup(void)
{
	make_image();
	buf = aligned_alloc(4096, IMAGE_BYTES);
}

static void teardown(void)
{
	block_close(&be);
	unlink(image);
	free(buf);
}

/* Reaps until n completions are in (bounded), as the event loop would on the engine's fd. */
static void wait_done(unsigned n)
{
	for (int tries = 0; ndone < n && tries < 500; tries++) {
		struct pollfd p = { .fd = completion_fd, .events = POLLIN };
		poll(&p, 1, 10);
		be.ops->reap(be.ctx);
	}
	ck_assert_uint_eq(ndone, n);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static void check_file(uint64_t offset, const void *want, size_t len)
{
	uint8_t *got = malloc(len);
	int fd = open(image, O_RDONLY);
	ck_assert_int_eq(pread(fd, got, len, (off_t)offset), (ssize_t)len);
	close(fd);
	ck_assert_mem_eq(got, want, len);
	free(got);
}

/* Submits the one request just queued (r: what queueing it returned) and waits for it. */
static int submit_one(int r)
{
	unsigned before = ndone;

	ck_assert_int_eq(r, 0);
	be.ops->submit(be.ctx);
	wait_done(before + 1);
	return done[before].result;
}

/* The image's open flags, read back from /proc: what the cache mode promised. */
static int image_open_flags(void)
{
	char path[64], target[4096], line[256];
	int flags = -1;

	for (int fd = 3; fd < 1024 && flags < 0; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strstr(target, image))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "flags: %o", (unsigned *)&flags) == 1)
				break;
		if (f)
			fclose(f);
	}
	return flags;
}

static void round_trip(void)
{
	struct iovec aligned = { buf, 8192 }, misaligned = { buf + 0x20001, 512 }, back = { buf + 0x40000, 8192 };

	fill(buf, 8192, 7);
	ck_assert_int_eq(submit_one(be.ops->write(be.ctx, 8 * 512, &aligned, 1, &aligned)), 0);
	check_file(8 * 512, buf, 8192);
	ck_assert_int_eq(submit_one(be.ops->flush(be.ctx, &back)), 0);
	ck_assert_int_eq(submit_one(be.ops->read(be.ctx, 8 * 512, &back, 1, &back)), 0);
	ck_assert_mem_eq(buf + 0x40000, buf, 8192);
	/* A buffer O_DIRECT cannot take as it is goes through a bounce buffer. */
	fill(buf + 0x20001, 512, 9);
	ck_assert_int_eq(submit_one(be.ops->write(be.ctx, 100 * 512, &misaligned, 1, &misaligned)), 0);
	check_file(100 * 512, buf + 0x20001, 512);
	struct iovec odd_back = { buf + 0x60003, 512 };
	ck_assert_int_eq(submit_one(be.ops->read(be.ctx, 100 * 512, &odd_back, 1, &odd_back)), 0);
	ck_assert_mem_eq(buf + 0x60003, buf + 0x20001, 512);
}

START_TEST(test_every_engine_and_cache_mode)
{
	const enum block_cache modes[] = { BLOCK_CACHE_WRITEBACK, BLOCK_CACHE_NONE, BLOCK_CACHE_WRITETHROUGH,
					   BLOCK_CACHE_DIRECTSYNC, BLOCK_CACHE_UNSAFE };
	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		for (unsigned m = 0; m < 5; m++) {
			open_engine(aio, modes[m], false);
			bool direct = modes[m] == BLOCK_CACHE_NONE || modes[m] == BLOCK_CACHE_DIRECTSYNC;
			int flags = image_open_flags();
			ck_assert_int_ge(flags, 0);
			ck_assert_msg(!!(flags & O_DIRECT) == direct, "cache=%s: O_DIRECT %s", block_cache_name(modes[m]),
				      direct ? "missing" : "set");
			ck_assert_int_eq(be.write_cache,
					 modes[m] != BLOCK_CACHE_WRITETHROUGH && modes[m] != BLOCK_CACHE_DIRECTSYNC);
			round_trip();
			block_close(&be);
		}
	}
}
END_TEST

/*
 * Writes that cannot finish yet: their guest buffers are memory nobody
 * has touched, registered with userfaultfd, so copying from them blocks
 * until the test supplies the pages. A flush queued behind them must wait
 * too: if it could run first it would complete now.
 */
static int slow_buffers(uint8_t **mem, size_t len)
{
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };

	ck_assert_msg(uffd >= 0, "userfaultfd: %s (the test needs root, as CI runs it)", strerror(errno));
	ck_assert_int_eq(ioctl(uffd, UFFDIO_API, &api), 0);
	*mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(*mem, MAP_FAILED);
	struct uffdio_register reg = { .range = { (uintptr_t)*mem, len }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	ck_assert_int_eq(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	return uffd;
}

static void supply_pages(int uffd, uint8_t *mem, size_t len)
{
	struct uffdio_copy copy = { .dst = (uintptr_t)mem, .src = (uintptr_t)buf, .len = len };
	ck_assert_int_eq(ioctl(uffd, UFFDIO_COPY, &copy), 0);
}

/* Two writes and a flush in one batch: the flush completes after both, however slow they are
 * (two, fewer than the thread pool's workers: one is free to run the flush too early). */
#define SLOW_WRITES 2
static void flush_after_writes(enum block_aio aio)
{
	const size_t len = SLOW_WRITES * 0x10000;
	struct iovec iov[SLOW_WRITES];
	int flush_tag;
	uint8_t *slow;
	int uffd = slow_buffers(&slow, len);

	open_engine(aio, BLOCK_CACHE_WRITEBACK, false);
	fill(buf, len, 5);
	for (unsigned i = 0; i < SLOW_WRITES; i++) {
		iov[i] = (struct iovec){ slow + i * 0x10000, 0x10000 };
		ck_assert_int_eq(be.ops->write(be.ctx, i * 0x10000ull, &iov[i], 1, &iov[i]), 0);
	}
	ck_assert_int_eq(be.ops->flush(be.ctx, &flush_tag), 0);
	be.ops->submit(be.ctx);
	usleep(200000);
	be.ops->reap(be.ctx);
	ck_assert_uint_eq(ndone, 0);   /* the writes wait for their pages, and the flush for them */
	supply_pages(uffd, slow, len);
	wait_done(SLOW_WRITES + 1);
	ck_assert_ptr_eq(done[SLOW_WRITES].tag, &flush_tag);
	for (unsigned i = 0; i <= SLOW_WRITES; i++)
		ck_assert_int_eq(done[i].result, 0);
	check_file(0, buf, len);
	block_close(&be);
	munmap(slow, len);
	close(uffd);
}

START_TEST(test_flush_completes_after_earlier_writes)
{
	flush_after_writes(BLOCK_AIO_IO_URING);
	flush_after_writes(BLOCK_AIO_THREADS);
}
END_TEST

/* Whether the page-cache page holding the image's first byte is dirty (/proc/kpageflags; root). */
static bool first_page_dirty(void)
{
	int fd = open(image, O_RDONLY);
	volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	uint64_t entry = 0, flags = 0;

	ck_assert_ptr_ne((void *)p, MAP_FAILED);
	(void)p[0];
	int pm = open("/proc/self/pagemap", O_RDONLY), kf = open("/proc/kpageflags", O_RDONLY);
	ck_assert_msg(pm >= 0 && kf >= 0, "cannot read page flags (the test needs root, as CI runs it)");
	ck_assert_int_eq(pread(pm, &entry, 8, (off_t)((uintptr_t)p / 4096 * 8)), 8);
	uint64_t pfn = entry & ((1ull << 55) - 1);
	ck_assert_msg(pfn != 0, "no page frame numbers in pagemap (the test needs root)");
	ck_assert_int_eq(pread(kf, &flags, 8, (off_t)(pfn * 8)), 8);
	close(pm);
	close(kf);
	munmap((void *)p, 4096);
	close(fd);
	return flags & (1ull << 4);   /* KPF_DIRTY */
}

/* With the write cache off a completed write is on stable storage, not just in the page cache. */
START_TEST(test_write_through_is_durable)
{
	struct iovec iov = { buf, 4096 };

	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		const enum block_cache modes[] = { BLOCK_CACHE_WRITEBACK, BLOCK_CACHE_WRITETHROUGH };
		for (unsigned m = 0; m < 2; m++) {
			open_engine(aio, modes[m], false);
			fill(buf, 4096, (uint8_t)(aio * 2 + m));
			ck_assert_int_eq(submit_one(be.ops->write(be.ctx, 0, &iov, 1, &iov)), 0);
			ck_assert_msg(first_page_dirty() == (modes[m] == BLOCK_CACHE_WRITEBACK),
				      "cache=%s: the written page is %s", block_cache_name(modes[m]),
				      first_page_dirty() ? "dirty" : "clean");
			if (modes[m] == BLOCK_CACHE_WRITEBACK) {
				be.ops->set_write_cache(be.ctx, false);   /* turning it off makes it durable */
				ck_assert(!first_page_dirty());
			}
			block_close(&be);
		}
	}
}
END_TEST

START_TEST(test_discard_and_write_zeroes)
{
	struct iovec all = { buf, 0x10000 };

	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		open_engine(aio, BLOCK_CACHE_WRITEBACK, false);
		fill(buf, 0x10000, 3);
		ck_assert_int_eq(submit_one(be.ops->write(be.ctx, 0, &all, 1, &all)), 0);
		ck_assert_int_eq(submit_one(be.ops->discard(be.ctx, 0, 8192, &all)), 0);
		ck_assert_int_eq(submit_one(be.ops->write_zeroes(be.ctx, 8192, 8192, false, &all)), 0);
		ck_assert_int_eq(submit_one(be.ops->write_zeroes(be.ctx, 16384, 8192, true, &all)), 0);
		memset(buf + 0x20000, 0, 24576);
		check_file(0, buf + 0x20000, 24576);
		check_file(24576, buf + 24576, 0x10000 - 24576);   /* the rest untouched */
		block_close(&be);
	}
}
END_TEST

START_TEST(test_read_only)
{
	struct iovec iov = { buf, 512 };

	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		open_engine(aio, BLOCK_CACHE_WRITEBACK, true);
		ck_assert(be.readonly);
		ck_assert_int_eq(be.ops->write(be.ctx, 0, &iov, 1, &iov), -EROFS);
		ck_assert_int_eq(be.ops->discard(be.ctx, 0, 512, &iov), -EROFS);
		ck_assert_int_eq(submit_one(be.ops->read(be.ctx, 0, &iov, 1, &iov)), 0);
		block_close(&be);
	}
}
END_TEST

/* No more than the depth in flight; room comes back with completions. */
START_TEST(test_depth)
{
	struct iovec iov = { buf, 512 };

	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		open_engine(aio, BLOCK_CACHE_WRITEBACK, false);
		for (unsigned i = 0; i < DEPTH; i++)
			ck_assert_int_eq(be.ops->read(be.ctx, 0, &iov, 1, &iov), 0);
		ck_assert(!be.ops->has_room(be.ctx, 1));
		ck_assert_int_eq(be.ops->read(be.ctx, 0, &iov, 1, &iov), -EAGAIN);
		be.ops->submit(be.ctx);
		wait_done(DEPTH);
		ck_assert(be.ops->has_room(be.ctx, DEPTH));
		block_close(&be);
	}
}
END_TEST

/* Bounce buffers (misaligned O_DIRECT buffers) stay within BLOCK_BOUNCE_MAX whatever the guest sends. */
START_TEST(test_bounce_budget)
{
	uint8_t *big = aligned_alloc(4096, 20u << 20);
	struct iovec ten = { big + 1, 10u << 20 }, more = { big + 3, 10u << 20 }, huge = { big + 5, 17u << 20 };

	for (enum block_aio aio = BLOCK_AIO_IO_URING; aio <= BLOCK_AIO_THREADS; aio++) {
		ck_assert_int_eq(truncate(image, 32u << 20), 0);
		open_engine(aio, BLOCK_CACHE_NONE, false);
		ck_assert_int_eq(be.ops->read(be.ctx, 0, &huge, 1, &huge), -ENOMEM);
		ck_assert_int_eq(be.ops->read(be.ctx, 0, &ten, 1, &ten), 0);
		ck_assert_int_eq(be.ops->read(be.ctx, 0, &more, 1, &more), -EAGAIN);
		be.ops->submit(be.ctx);
		wait_done(1);
		ck_assert_int_eq(submit_one(be.ops->read(be.ctx, 0, &more, 1, &more)), 0);
		block_close(&be);
	}
	free(big);
}
END_TEST

START_TEST(test_bad_images)
{
	struct vmm_error err;
	struct block_options o = { "/nonexistent/disk.img", BLOCK_CACHE_WRITEBACK, BLOCK_AIO_IO_URING, false, DEPTH, NULL };

	ck_assert_int_eq(block_open(&be, &o, &err), -1);
	ck_assert_int_eq(err.status, VMM_EXIT_USAGE);
	ck_assert_int_eq(truncate(image, 1000), 0);   /* not whole sectors */
	o.path = image;
	ck_assert_int_eq(block_open(&be, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "multiple of 512"));
	ck_assert_int_eq(truncate(image, IMAGE_BYTES), 0);
	open_engine(BLOCK_AIO_THREADS, BLOCK_CACHE_WRITEBACK, false);
	struct block_backend second;
	ck_assert_int_eq(block_open(&second, &o, &err), -1);   /* the lock: one writer */
	ck_assert_ptr_nonnull(strstr(err.msg, "in use by another process"));
}
END_TEST

START_TEST(test_cache_names)
{
	enum block_cache c;

	ck_assert_int_eq(block_cache_parse("directsync", &c), 0);
	ck_assert_int_eq(c, BLOCK_CACHE_DIRECTSYNC);
	ck_assert_str_eq(block_cache_name(BLOCK_CACHE_NONE), "none");
	ck_assert_int_eq(block_cache_parse("fast", &c), -1);
}
END_TEST

Suite *block_suite(void)
{
	Suite *s = suite_create("block");
	TCase *tc = tcase_create("block");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_engine_and_cache_mode);
	tcase_add_test(tc, test_flush_completes_after_earlier_writes);
	tcase_add_test(tc, test_write_through_is_durable);
	tcase_add_test(tc, test_discard_and_write_zeroes);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_bounce_budget);
	tcase_add_test(tc, test_bad_images);
	tcase_add_test(tc, test_cache_names);
	suite_add_tcase(s, tc);
	return s;
}
