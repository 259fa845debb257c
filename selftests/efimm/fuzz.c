// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz SEED CASES OUT: feed CASES seeded random efi_test ioctls to the
 * firmware and write one line per case to OUT: the ioctl's return value,
 * errno, the firmware status and a digest of what came back. fuzz.sh runs
 * the same cases on the kernel's path and through efimm and requires the
 * two files to be identical.
 *
 * The cases: every efi_test command but ResetSystem, plus unknown commands;
 * argument structures and the pointers in them NULL, unmapped, in the
 * kernel, read-only or misaligned; UCS-2 names empty, unterminated at the
 * end of a mapping, 32767 characters long or random; sizes from 0 to 2^40;
 * random attributes, times, GUIDs and capsule headers. Writes only touch
 * the variables Fuzz0..Fuzz15 of a GUID of the fuzzer's own, deleted before
 * and after; SetTime only gets invalid times.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "efi_test_calls.h"

#define PAGE 4096UL
#define BIG (1UL << 20)
#define POOL_NAMES 16
/*
 * efi_test kmalloc()s GetVariable's data size and QueryCapsuleCapabilities'
 * capsule count as given, without __GFP_NOWARN: above the allocator's
 * largest size it would warn (in efi_test, on either path), so these two
 * stay below it.
 */
#define MAX_KMALLOC_DATA (1UL << 22)
/*
 * efi_test hands the firmware &capsules, the address of its one pointer
 * to the copied headers, as the capsule header array: for a count above 1
 * the firmware reads kernel stack past it as header pointers. Those calls
 * are undefined on either path, so counts stay at 0 or 1.
 */
#define MAX_CAPSULES 1
/*
 * OVMF cannot reclaim its variable store at runtime: every non-volatile
 * write takes space until the next boot, and -bios mode's store holds a
 * few hundred. After this many successful writes (SetVariable, and
 * GetNextHighMonotonicCount, which rewrites a variable) a run writes
 * volatile (refused at runtime) and skips the monotonic count, so that
 * long runs leave the store usable and both paths see the same free space.
 */
#define MAX_NV_WRITES 32

static unsigned int nv_writes;

static const efi_guid_t fuzz_guid = { {
	0x7e, 0x1a, 0x5f, 0x2b, 0x33, 0x9c, 0x4d, 0x4e,
	0x9a, 0x66, 0x66, 0x75, 0x7a, 0x7a, 0x65, 0x72 } };

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static unsigned long below(unsigned long n)
{
	return next() % n;
}

/*
 * Where pointers may point. The kernel reads inputs from big, which only
 * the fuzzer writes, and writes outputs to sink: times, counts and free
 * space differ between the runs and must not leak into later inputs.
 */
static uint8_t *big;		/* BIG + PAGE bytes, read-write */
static uint8_t *sink;		/* the same, for outputs */
static uint8_t *readonly;	/* one read-only page */
static uint8_t *unmapped;	/* a page nobody maps */
static efi_char16_t *unterminated; /* a page of 'A's, unmapped after it */
static efi_char16_t *huge_name;	/* 32767 'A's and a NUL */

/* A pointer into @buf for the kernel to read or write @len bytes at. */
static void *pointer_into(uint8_t *buf, size_t len)
{
	switch (below(8)) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return (void *)0xffffffff81000000UL;	/* kernel text */
	case 3:
		return readonly;
	case 4:
		return buf + 1;				/* misaligned */
	default:
		return buf + below(BIG - (len < BIG ? len : 0) + 1);
	}
}

static void *pointer(size_t len)
{
	return pointer_into(big, len);
}

static void *out_pointer(size_t len)
{
	return pointer_into(sink, len);
}

/*
 * A pointer the kernel cannot use for anything: NULL, unmapped, kernel,
 * or the read-only zero page (for a size read: 0).
 */
static void *bad_pointer(void)
{
	static const unsigned long bad[] = { 0, 0xffffffff81000000UL };

	switch (below(4)) {
	case 0:
	case 1:
		return (void *)bad[below(2)];
	case 2:
		return unmapped;
	default:
		return readonly;
	}
}

static unsigned long size(void)
{
	static const unsigned long sizes[] = {
		0, 1, 2, 4, 8, 63, 64, 1024, 0x10000, BIG, 1UL << 40, ~0UL,
	};

	return below(4) ? below(65) : sizes[below(ARRAY_SIZE(sizes))];
}

static void pool_name(efi_char16_t *out, unsigned int i)
{
	char s[16];

	snprintf(s, sizeof(s), "Fuzz%u", i);
	ascii_to_ucs2(s, out);
}

/* A name to look up: well-formed, or any of the malformed kinds. */
static efi_char16_t *name(efi_char16_t *scratch)
{
	unsigned int i, len;

	switch (below(10)) {
	case 0:
		return NULL;
	case 1:
		return (efi_char16_t *)unmapped;
	case 2:
		return unterminated;
	case 3:
		return huge_name;
	case 4:
		scratch[0] = 0;
		return scratch;
	case 5:
		len = 1 + below(40);
		for (i = 0; i < len; i++)
			scratch[i] = 1 + below(0xfffe);
		scratch[len] = 0;
		return scratch;
	default:
		pool_name(scratch, below(POOL_NAMES));
		return scratch;
	}
}

static efi_guid_t *guid(efi_guid_t *scratch)
{
	unsigned int i;

	switch (below(6)) {
	case 0:
		return pointer(sizeof(*scratch));
	case 1:
		for (i = 0; i < 16; i++)
			scratch->b[i] = next();
		return scratch;
	default:
		*scratch = fuzz_guid;
		return scratch;
	}
}

static void random_time(efi_time_t *t, int invalid)
{
	memset(t, 0, sizeof(*t));
	t->year = 1990 + below(120);
	t->month = 1 + below(12);
	t->day = 1 + below(28);
	t->hour = below(24);
	t->minute = below(60);
	t->second = below(60);
	t->timezone = below(4) ? 0x7ff : (int16_t)(below(2881) - 1440);
	if (invalid || below(2))
		t->month = 13 + below(243);
}

static uint32_t attributes(void)
{
	switch (below(8)) {
	case 0:
		return EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |
		       EFI_VARIABLE_RUNTIME_ACCESS;
	case 1:
	case 2:
		return EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS;
	case 3:
		return 0;
	default:
		return next();
	}
}

static uint32_t digest(const void *p, size_t len, uint32_t h)
{
	const uint8_t *b = p;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* Fills @arg for one efi_test command; returns the command. */
struct scratch {
	efi_char16_t name[64];
	efi_guid_t guid;
	efi_time_t time;
	efi_time_cap_t cap;
	uint32_t attr, count;
	uint64_t info[3];
	unsigned long size;
	uint8_t enabled, pending;
	int reset_type;
	void *capsules[16];
	union {
		struct efi_getvariable getvar;
		struct efi_setvariable setvar;
		struct efi_getnextvariablename getnext;
		struct efi_queryvariableinfo query;
		struct efi_gettime gettime;
		struct efi_settime settime;
		struct efi_getwakeuptime getwake;
		struct efi_setwakeuptime setwake;
		struct efi_getnexthighmonotoniccount mono;
		struct efi_querycapsulecapabilities caps;
		uint8_t raw[64];
	} a;
};

static unsigned long build(struct scratch *s, efi_status_t *st)
{
	unsigned long r = below(100), n;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	*st = ~0ULL;
	if (r < 20) {
		s->size = below(2) ? size() : 4;
		if (s->size > MAX_KMALLOC_DATA)
			s->size = MAX_KMALLOC_DATA;
		s->a.getvar = (struct efi_getvariable){
			name(s->name), guid(&s->guid), below(4) ? &s->attr : NULL,
			below(6) ? &s->size : bad_pointer(), out_pointer(s->size), st };
		if (below(3))
			s->a.getvar.data = sink;
		return EFI_RUNTIME_GET_VARIABLE;
	}
	if (r < 40) {
		/* Names from the pool, or malformed ones that never get written. */
		efi_char16_t *nm = name(s->name);

		if (nm == s->name) {
			pool_name(s->name, below(POOL_NAMES));
			nm = s->name;
		}
		s->attr = attributes();
		if (nv_writes >= MAX_NV_WRITES)
			s->attr &= ~EFI_VARIABLE_NON_VOLATILE;
		n = size();
		/* Non-volatile writes that may succeed stay small. */
		if ((s->attr & EFI_VARIABLE_NON_VOLATILE) && n > 64 && n < 0x10000)
			n = 64;
		/* Never another GUID's variables: ours, or no usable GUID. */
		s->guid = fuzz_guid;
		s->a.setvar = (struct efi_setvariable){
			nm, below(8) ? &s->guid : bad_pointer(), s->attr,
			n, below(4) ? pointer(n) : big, st };
		for (i = 0; i < 64; i++)
			big[i] = next();
		return EFI_RUNTIME_SET_VARIABLE;
	}
	if (r < 55) {
		efi_char16_t *nm = below(3) ? s->name : name(s->name);
		int after_boot_order = nm == s->name && s->name[0] == 'F';

		/*
		 * Where the pool's variables lie in the store differs between
		 * the runs (each run's writes leave records behind), so the
		 * name after one of them does too: start after BootOrder
		 * instead, which the runs do not move.
		 */
		if (after_boot_order)
			ascii_to_ucs2("BootOrder", s->name);
		/*
		 * efi_test copies back as many bytes as the size said: a
		 * large one gets the second half of the big buffer, starting
		 * with an empty name.
		 */
		s->size = below(3) ? sizeof(s->name) : size();
		if (s->size > sizeof(s->name) && nm == s->name) {
			nm = (efi_char16_t *)(sink + BIG / 2);
			nm[0] = 0;
		}
		s->a.getnext = (struct efi_getnextvariablename){
			below(8) ? &s->size : bad_pointer(), nm,
			below(8) ? &s->guid : guid(&s->guid), st };
		if (below(2))
			s->guid = fuzz_guid;
		if (after_boot_order)
			s->guid = global_guid;
		return EFI_RUNTIME_GET_NEXTVARIABLENAME;
	}
	if (r < 65) {
		s->a.gettime = (struct efi_gettime){
			below(6) ? &s->time : out_pointer(sizeof(s->time)),
			below(2) ? &s->cap : out_pointer(sizeof(s->cap)), st };
		return EFI_RUNTIME_GET_TIME;
	}
	if (r < 75) {
		s->a.query = (struct efi_queryvariableinfo){
			attributes(), below(6) ? &s->info[0] : out_pointer(8),
			&s->info[1], below(6) ? &s->info[2] : out_pointer(8), st };
		return EFI_RUNTIME_QUERY_VARIABLEINFO;
	}
	if (r < 80) {
		random_time(&s->time, 1);
		s->a.settime = (struct efi_settime){
			below(6) ? &s->time : pointer(sizeof(s->time)), st };
		return EFI_RUNTIME_SET_TIME;
	}
	if (r < 85) {
		s->a.getwake = (struct efi_getwakeuptime){
			below(6) ? &s->enabled : out_pointer(1),
			below(6) ? &s->pending : out_pointer(1),
			below(6) ? &s->time : out_pointer(sizeof(s->time)), st };
		return EFI_RUNTIME_GET_WAKETIME;
	}
	if (r < 90) {
		random_time(&s->time, below(2));
		s->a.setwake = (struct efi_setwakeuptime){
			below(2), below(6) ? &s->time : pointer(sizeof(s->time)), st };
		return EFI_RUNTIME_SET_WAKETIME;
	}
	if (r < 94) {
		n = below(MAX_CAPSULES + 1);
		for (i = 0; i < 16; i++)
			s->capsules[i] = below(4) ? big + below(BIG) : pointer(28);
		for (i = 0; i < 256; i++)
			big[i] = next();
		s->a.caps = (struct efi_querycapsulecapabilities){
			below(4) ? (efi_capsule_header_t **)s->capsules :
				   pointer(n * sizeof(void *)),
			n, below(6) ? &s->info[0] : out_pointer(8),
			below(6) ? &s->reset_type : out_pointer(4), st };
		return EFI_RUNTIME_QUERY_CAPSULECAPABILITIES;
	}
	if (r < 95) {
		s->a.mono = (struct efi_getnexthighmonotoniccount){
			below(4) ? &s->count : out_pointer(4), st };
		return EFI_RUNTIME_GET_NEXTHIGHMONOTONICCOUNT;
	}
	/* Unknown commands, and random bytes as any command's argument. */
	for (i = 0; i < sizeof(s->a.raw); i++)
		s->a.raw[i] = next();
	if (below(2))
		return _IOC(below(4), 'p', 0x0c + below(0xf4), below(256));
	return next();
}

/* What came back, beyond the status, in a form both runs must agree on. */
static uint32_t result_digest(unsigned long cmd, struct scratch *s, int ret)
{
	uint32_t h = 2166136261u;

	if (ret)
		return 0;
	switch (cmd) {
	case EFI_RUNTIME_GET_VARIABLE:
		h = digest(&s->attr, sizeof(s->attr), h);
		h = digest(&s->size, sizeof(s->size), h);
		if (s->a.getvar.data == sink && s->size <= 64)
			h = digest(sink, s->size, h);
		return h;
	case EFI_RUNTIME_GET_NEXTVARIABLENAME:
		h = digest(s->name, sizeof(s->name), h);
		return digest(&s->guid, sizeof(s->guid), h);
	case EFI_RUNTIME_GET_WAKETIME:
		return digest(&s->enabled, 1, h);
	default:
		/* Times, counts and a fired alarm move on between the runs. */
		return h;
	}
}

/* The state the cases may change, as it was: pool deleted, no wakeup. */
static void reset_state(int fd)
{
	efi_char16_t n[16];
	efi_guid_t g = fuzz_guid;
	efi_status_t st;
	efi_time_t t;
	struct efi_setwakeuptime w = { 0, &t, &st };
	unsigned int i;

	memset(&t, 0, sizeof(t));
	ioctl(fd, EFI_RUNTIME_SET_WAKETIME, &w);

	for (i = 0; i < POOL_NAMES; i++) {
		struct efi_setvariable a = { n, &g, 0, 0, NULL, &st };

		pool_name(n, i);
		ioctl(fd, EFI_RUNTIME_SET_VARIABLE, &a);
	}
}

static void *map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(KSFT_FAIL);
	}
	return p;
}

int main(int argc, char **argv)
{
	unsigned long cases, c, i;
	struct scratch s;
	FILE *out;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SEED CASES OUT\n", argv[0]);
		return KSFT_FAIL;
	}
	rng = strtoull(argv[1], NULL, 0) * 2 + 1;
	cases = strtoul(argv[2], NULL, 0);
	out = fopen(argv[3], "w");
	fd = open("/dev/efi_test", O_RDWR);
	if (!out || fd < 0) {
		perror("open");
		return KSFT_FAIL;
	}

	big = map(BIG + PAGE, PROT_READ | PROT_WRITE);
	sink = map(BIG + PAGE, PROT_READ | PROT_WRITE);
	readonly = map(PAGE, PROT_READ);
	unmapped = map(PAGE, PROT_NONE);
	munmap(unmapped, PAGE);
	unterminated = map(2 * PAGE, PROT_READ | PROT_WRITE);
	for (i = 0; i < PAGE / 2; i++)
		unterminated[i] = 'A';
	munmap((uint8_t *)unterminated + PAGE, PAGE);
	huge_name = map(0x10000, PROT_READ | PROT_WRITE);
	for (i = 0; i < 0x7fff; i++)
		huge_name[i] = 'A';
	huge_name[i] = 0;

	reset_state(fd);
	for (c = 0; c < cases; c++) {
		efi_status_t st;
		unsigned long cmd = build(&s, &st);
		void *arg = &s.a;
		int ret;

		switch (below(20)) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = unmapped;
			break;
		case 2:
			arg = (void *)0xffffffff81000000UL;
			break;
		}
		if (cmd == EFI_RUNTIME_GET_NEXTHIGHMONOTONICCOUNT &&
		    nv_writes >= MAX_NV_WRITES) {
			fprintf(out, "%lu %lx skipped\n", c, cmd);
			continue;
		}
		errno = 0;
		ret = ioctl(fd, cmd, arg);
		if (!ret && (cmd == EFI_RUNTIME_GET_NEXTHIGHMONOTONICCOUNT ||
			     (cmd == EFI_RUNTIME_SET_VARIABLE &&
			      (s.attr & EFI_VARIABLE_NON_VOLATILE) &&
			      s.a.setvar.data_size)))
			nv_writes++;
		fprintf(out, "%lu %lx %d %d %llx %08x\n", c, cmd, ret, ret ? errno : 0,
			(unsigned long long)st, result_digest(cmd, &s, ret));
	}
	reset_state(fd);
	fclose(out);
	close(fd);
	return KSFT_PASS;
}
