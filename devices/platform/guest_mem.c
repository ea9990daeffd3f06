/* Guest physical memory: bounds-checked pointers into the RAM regions and copies in and out. */
#include "guest_mem.h"

#include <string.h>

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_mem_region *r = &gm->region[i];
		/* Written so that no sum can overflow. */
		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}
