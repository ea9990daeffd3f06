/* Copying a loader's file into guest RAM; see blob.h. */
#include "blob.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int boot_blob_copy(const struct boot_blob *b, uint64_t offset, void *dst, size_t len)
{
	uint8_t *to = dst;

	if (offset > b->len || len > b->len - offset)
		return -1;
	if (b->fd < 0) {
		memcpy(to, b->data + offset, len);
		return 0;
	}
	while (len > 0) {
		ssize_t n = pread(b->fd, to, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;   /* an error, or the file shrank under us */
		to += n, offset += (uint64_t)n, len -= (size_t)n;
	}
	return 0;
}
