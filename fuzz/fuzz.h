/*
 * fuzz.h: what the libFuzzer targets share: a check that aborts with a
 * message (written straight to fd 2, so it shows even where a target has
 * pointed stdio's stderr elsewhere), a reader of input bytes, and a copy
 * of input bytes as a C string.
 */
#ifndef MRL_FUZZ_H
#define MRL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* run.sh picks this line up as the finding's summary. */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		dprintf(2, "FUZZ CHECK FAILED: %s:%d: (%s) ",		\
		    __FILE__, __LINE__, #cond);				\
		dprintf(2, __VA_ARGS__);				\
		dprintf(2, "\n");					\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input, consumed from the front; reads past the end give zeros. */
struct reader {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
take8(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static inline uint16_t
take16(struct reader *r)
{
	uint16_t hi = take8(r);

	return (uint16_t)(hi << 8 | take8(r));
}

static inline uint32_t
take32(struct reader *r)
{
	uint32_t hi = take16(r);

	return hi << 16 | take16(r);
}

/* Up to want bytes into dst, the rest zero; returns how many were real. */
static inline size_t
take_bytes(struct reader *r, void *dst, size_t want)
{
	size_t n = want < r->n ? want : r->n;

	memcpy(dst, r->p, n);
	memset((uint8_t *)dst + n, 0, want - n);
	r->p += n;
	r->n -= n;
	return n;
}

/* data as a NUL-terminated string in its own allocation (ASan sees a
 * read past its end). */
static inline char *
cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A buffer filled with a sentinel, so that a check can tell whether a
 * function wrote a terminated string into its first len bytes. */
static inline void
sentinel_fill(char *buf, size_t size)
{
	memset(buf, 0xA5, size);
}

static inline bool
terminated_within(const char *buf, size_t len)
{
	return len > 0 && memchr(buf, '\0', len) != NULL;
}

static inline bool
same_addr(const struct addr *a, const struct addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* Independent of addr_mask: are all bits after plen (family terms) clear? */
static inline bool
host_bits_clear(const struct addr *a, int plen)
{
	int bits = addr_is_v4(a) ? plen + 96 : plen;

	for (int i = bits < 0 ? 0 : bits; i < 128; i++)
		if (a->b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* Do the first plen bits (family terms) of a and b agree? */
static inline bool
same_leading_bits(const struct addr *a, const struct addr *b, int plen)
{
	int bits = addr_is_v4(a) ? plen + 96 : plen;
	size_t full;

	if (bits <= 0)
		return true;
	if (bits > 128)
		bits = 128;
	full = (size_t)bits / 8;
	if (memcmp(a->b, b->b, full) != 0)
		return false;
	return bits % 8 == 0 ||
	    ((a->b[full] ^ b->b[full]) & (uint8_t)(0xff00u >> (bits % 8))) == 0;
}

static inline int
family_max(const struct addr *a)
{
	return addr_is_v4(a) ? 32 : 128;
}

#endif
