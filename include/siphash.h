/* siphash.h: SipHash-1-3, a keyed hash, so clients cannot pick collisions. */
#ifndef MRL_SIPHASH_H
#define MRL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash13(const uint8_t key[16], const void *data, size_t len);

#endif
