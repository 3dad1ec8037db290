/*
 * addr.c: addresses in one 16-byte form, prefixes, masking, formatting.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool
addr_is_v4(const struct addr *a)
{
	return memcmp(a->b, v4mapped, sizeof v4mapped) == 0;
}

static void
addr_set_v4(struct addr *out, const void *in4)
{
	memcpy(out->b, v4mapped, sizeof v4mapped);
	memcpy(out->b + 12, in4, 4);
}

bool
addr_from_sockaddr(struct addr *out, const struct sockaddr *sa)
{
	if (sa == NULL)
		return false;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		addr_set_v4(out, &sin->sin_addr);
		return true;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(out->b, &sin6->sin6_addr, 16);
		return true;
	}
	default:
		return false;
	}
}

bool
addr_parse(struct addr *out, const char *s)
{
	struct in_addr in4;
	struct in6_addr in6;

	if (inet_pton(AF_INET, s, &in4) == 1) {
		addr_set_v4(out, &in4);
		return true;
	}
	if (inet_pton(AF_INET6, s, &in6) == 1) {
		memcpy(out->b, &in6, 16);
		return true;
	}
	return false;
}

/* Mask in 128-bit terms. */
static void
mask128(struct addr *a, int bits)
{
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8;
		if (keep >= 8)
			continue;
		a->b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff00u >> keep);
	}
}

void
addr_mask(struct addr *a, int plen)
{
	mask128(a, addr_is_v4(a) ? plen + 96 : plen);
}

/* Untrusted text for an error message: printable, one line, bounded. */
static const char *
shown(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++)
		dst[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s)
		dst[o++] = '.', dst[o++] = '.', dst[o++] = '.';
	dst[o] = '\0';
	return dst;
}

bool
addr_parse_prefix(struct addr *out, int *plen, const char *s, char *err,
    size_t errlen)
{
	char show[84];

	char buf[ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int max, len;
	struct addr masked;

	if (alen == 0 || alen >= sizeof buf) {
		if (err)
			snprintf(err, errlen, "not an address: \"%s\"",
			    shown(show, sizeof show, s));
		return false;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (!addr_parse(out, buf)) {
		if (err)
			snprintf(err, errlen, "not an IPv4 or IPv6 address: \"%s\"",
			    shown(show, sizeof show, buf));
		return false;
	}
	max = addr_is_v4(out) ? 32 : 128;
	if (slash == NULL) {
		*plen = max;
		return true;
	}
	/* Digits only, no sign, no leading zero, no space: "/024" is a typo. */
	const char *p = slash + 1;
	if (*p == '\0' || (p[0] == '0' && p[1] != '\0')) {
		if (err)
			snprintf(err, errlen, "bad prefix length in \"%s\"",
				    shown(show, sizeof show, s));
		return false;
	}
	for (len = 0; *p; p++) {
		if (*p < '0' || *p > '9' || len > max) {
			if (err)
				snprintf(err, errlen, "bad prefix length in \"%s\"",
				    shown(show, sizeof show, s));
			return false;
		}
		len = len * 10 + (*p - '0');
	}
	if (len > max) {
		if (err)
			snprintf(err, errlen, "prefix length %d is longer than %d in \"%s\"",
			    len, max, shown(show, sizeof show, s));
		return false;
	}
	masked = *out;
	addr_mask(&masked, len);
	if (memcmp(&masked, out, sizeof masked) != 0) {
		if (err) {
			char net[ADDR_STRLEN], bits[ADDR_STRLEN] = "";
			struct addr host = *out;
			for (int i = addr_is_v4(out) ? 12 : 0; i < 16; i++)
				host.b[i] ^= masked.b[i];
			addr_format(net, sizeof net, &masked);
			if (addr_is_v4(out))
				addr_format(bits, sizeof bits, &host);
			else	/* all 8 groups: inet_ntop would show ::0.1.0.0 */
				for (int g = 0, o = 0; g < 8; g++)
					o += snprintf(bits + o, sizeof bits - (size_t)o,
					    g ? ":%x" : "%x", host.b[2 * g] << 8 | host.b[2 * g + 1]);
			snprintf(err, errlen, "host bits set after /%d in \"%s\": %s lies "
			    "outside the prefix (the network is %s/%d)",
			    len, shown(show, sizeof show, s), bits, net, len);
		}
		return false;
	}
	*plen = len;
	return true;
}

void
addr_format(char *dst, size_t dstlen, const struct addr *a)
{
	if (addr_is_v4(a)) {
		if (inet_ntop(AF_INET, a->b + 12, dst, (socklen_t)dstlen) == NULL && dstlen)
			dst[0] = '\0';
	} else {
		if (inet_ntop(AF_INET6, a->b, dst, (socklen_t)dstlen) == NULL && dstlen)
			dst[0] = '\0';
	}
}

void
addr_format_prefix(char *dst, size_t dstlen, const struct addr *a, int plen)
{
	char buf[ADDR_STRLEN];

	addr_format(buf, sizeof buf, a);
	snprintf(dst, dstlen, "%s/%d", buf, plen);
}
