// SPDX-License-Identifier: GPL-2.0
/*
 * Every runtime service works through efimm and agrees with the kernel's
 * own path. Calls are made with the efi_test ioctls; efimm's debugfs `route`
 * switch decides which path serves them, and its counters prove that efimm
 * did.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "efi_test_calls.h"

/*
 * Enumerate every variable into @out as "guid-bytes name" lines sorted, so
 * two enumerations compare with strcmp(). Returns the number of variables.
 */
static int enumerate(int fd, char *out, size_t len)
{
	efi_char16_t name[512] = { 0 };
	efi_guid_t guid = { { 0 } };
	char *lines[512], *buf = out;
	int n = 0, i, j;

	for (;;) {
		unsigned long size = sizeof(name);
		efi_status_t st = ~0ULL;
		struct efi_getnextvariablename a = { &size, name, &guid, &st };
		char line[600];
		int k, o;

		ioctl(fd, EFI_RUNTIME_GET_NEXTVARIABLENAME, &a);
		if (st == EFI_NOT_FOUND)
			break;
		if (st != EFI_SUCCESS || n == 512)
			return -1;
		o = 0;
		for (k = 0; k < 16; k++)
			o += sprintf(line + o, "%02x", guid.b[k]);
		line[o++] = ' ';
		for (k = 0; name[k] && o < (int)sizeof(line) - 2; k++)
			line[o++] = name[k] < 0x80 ? name[k] : '?';
		line[o] = 0;
		lines[n] = strdup(line);
		n++;
	}
	/* insertion sort: a few dozen lines */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *t = lines[j];

			lines[j] = lines[j - 1];
			lines[j - 1] = t;
		}
	*buf = 0;
	for (i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		if ((size_t)(buf - out) + l + 2 < len) {
			memcpy(buf, lines[i], l);
			buf += l;
			*buf++ = '\n';
			*buf = 0;
		}
		free(lines[i]);
	}
	return n;
}

static time_t to_seconds(const efi_time_t *t)
{
	struct tm tm = {
		.tm_year = t->year - 1900, .tm_mon = t->month - 1,
		.tm_mday = t->day, .tm_hour = t->hour,
		.tm_min = t->minute, .tm_sec = t->second,
	};

	return timegm(&tm);
}

FIXTURE(services) {
	int fd;
};

static bool booted_lowmap(void)
{
	char cmdline[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = 0;
		fclose(f);
	}
	return strstr(cmdline, "efi=lowmap");
}

FIXTURE_SETUP(services)
{
	if (!booted_lowmap())
		SKIP(return, "efimm needs a kernel booted with efi=lowmap");
	/*
	 * In the mode and with the seal a boot's efimm.mode= and efimm.seal=
	 * name (lib.sh's efimm_boot_mode).
	 */
	ASSERT_EQ(0, system("grep -q '^efimm ' /proc/modules || insmod \"$EFIMM_KO\" "
			    "$(tr ' ' '\\n' </proc/cmdline | sed -n "
			    "'s/^efimm[.]\\(mode=[a-z0-9]*\\)$/\\1/p; "
			    "s/^efimm[.]\\(seal=[01]\\)$/\\1/p')"));
	ASSERT_EQ(0, system("grep -q '^efi_test ' /proc/modules || insmod \"$EFI_TEST_KO\""));
	self->fd = open("/dev/efi_test", O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(services)
{
	if (!booted_lowmap())
		return;
	set_route(KERNEL);
	close(self->fd);
}

TEST_F(services, get_time_agrees_within_2s)
{
	efi_time_t k, e;
	unsigned long long before = counter("efimm.get_time.calls");

	set_route(KERNEL);
	ASSERT_EQ(EFI_SUCCESS, get_time(self->fd, &k));
	set_route(EFIMM);
	ASSERT_EQ(EFI_SUCCESS, get_time(self->fd, &e));
	EXPECT_EQ(before + 1, counter("efimm.get_time.calls"));
	EXPECT_GE(2, labs((long)(to_seconds(&e) - to_seconds(&k))));
	EXPECT_LE(1900, e.year);
}

TEST_F(services, get_variable_same_bytes_and_attributes)
{
	unsigned char kd[512], ed[512];
	unsigned long ks = sizeof(kd), es = sizeof(ed);
	uint32_t ka = 0, ea = 0;
	unsigned long long before = counter("efimm.get_variable.calls");

	set_route(KERNEL);
	ASSERT_EQ(EFI_SUCCESS, get_variable(self->fd, "BootOrder", &global_guid, &ka, kd, &ks));
	set_route(EFIMM);
	ASSERT_EQ(EFI_SUCCESS, get_variable(self->fd, "BootOrder", &global_guid, &ea, ed, &es));
	EXPECT_EQ(before + 1, counter("efimm.get_variable.calls"));
	EXPECT_EQ(ka, ea);
	ASSERT_EQ(ks, es);
	EXPECT_EQ(0, memcmp(kd, ed, ks));
}

TEST_F(services, get_variable_too_small_buffer_reports_size)
{
	unsigned char d[1];
	unsigned long ks = 0, es = 0;
	uint32_t a;

	set_route(KERNEL);
	EXPECT_EQ(EFI_BUFFER_TOO_SMALL, get_variable(self->fd, "BootOrder", &global_guid, &a, d, &ks));
	set_route(EFIMM);
	EXPECT_EQ(EFI_BUFFER_TOO_SMALL, get_variable(self->fd, "BootOrder", &global_guid, &a, d, &es));
	EXPECT_EQ(ks, es);
	EXPECT_LT(0, es);
}

TEST_F(services, get_next_variable_name_same_set)
{
	static char k[65536], e[65536];
	int nk, ne;

	set_route(KERNEL);
	nk = enumerate(self->fd, k, sizeof(k));
	set_route(EFIMM);
	ne = enumerate(self->fd, e, sizeof(e));
	ASSERT_LT(0, nk);
	EXPECT_EQ(nk, ne);
	EXPECT_STREQ(k, e);
	EXPECT_LT(0, counter("efimm.get_next_variable.calls"));
}

TEST_F(services, query_variable_info_same_numbers)
{
	uint64_t k[3], e[3];

	set_route(KERNEL);
	ASSERT_EQ(EFI_SUCCESS, query_info(self->fd, k));
	set_route(EFIMM);
	ASSERT_EQ(EFI_SUCCESS, query_info(self->fd, e));
	EXPECT_EQ(k[0], e[0]);
	EXPECT_EQ(k[1], e[1]);
	EXPECT_EQ(k[2], e[2]);
	EXPECT_LT(0, counter("efimm.query_variable_info.calls"));
}

TEST_F(services, monotonic_count_increases_across_paths)
{
	uint32_t last = 0, c;
	int i;

	for (i = 0; i < 6; i++) {
		set_route(i % 2 ? EFIMM : KERNEL);
		ASSERT_EQ(EFI_SUCCESS, mono_count(self->fd, &c));
		if (i)
			EXPECT_LT(last, c);
		last = c;
	}
	EXPECT_LE(3, counter("efimm.get_next_high_mono_count.calls"));
}

/* Writes with @writer, reads back and deletes with the other path. */
static void cross_path_variable(struct __test_metadata *_metadata, int fd,
				enum path writer)
{
	const uint32_t attr = EFI_VARIABLE_NON_VOLATILE |
			      EFI_VARIABLE_BOOTSERVICE_ACCESS |
			      EFI_VARIABLE_RUNTIME_ACCESS;
	const char *name = writer == EFIMM ? "EfimmWrittenByEfimm" : "EfimmWrittenByKernel";
	char value[] = "efimm cross-path value";
	unsigned char got[64];
	unsigned long size = sizeof(got);
	uint32_t a = 0;

	set_route(writer);
	ASSERT_EQ(EFI_SUCCESS, set_variable(fd, name, &test_guid, attr, value, sizeof(value)));
	set_route(!writer);
	ASSERT_EQ(EFI_SUCCESS, get_variable(fd, name, &test_guid, &a, got, &size));
	EXPECT_EQ(attr, a);
	ASSERT_EQ(sizeof(value), size);
	EXPECT_EQ(0, memcmp(value, got, size));
	ASSERT_EQ(EFI_SUCCESS, set_variable(fd, name, &test_guid, attr, NULL, 0));
	set_route(writer);
	size = sizeof(got);
	EXPECT_EQ(EFI_NOT_FOUND, get_variable(fd, name, &test_guid, &a, got, &size));
}

TEST_F(services, set_through_efimm_reads_back_through_kernel)
{
	unsigned long long before = counter("efimm.set_variable.calls");

	cross_path_variable(_metadata, self->fd, EFIMM);
	EXPECT_EQ(before + 1, counter("efimm.set_variable.calls"));
}

TEST_F(services, set_through_kernel_reads_back_through_efimm)
{
	cross_path_variable(_metadata, self->fd, KERNEL);
}

/*
 * @t plus one hour, the date rolled over as needed: OVMF takes a wakeup
 * time only later than now and within a day, so 23:xx + 1 is tomorrow.
 */
static efi_time_t one_hour_later(const efi_time_t *t)
{
	struct tm tm = {
		.tm_year = t->year - 1900, .tm_mon = t->month - 1,
		.tm_mday = t->day, .tm_hour = t->hour,
		.tm_min = t->minute, .tm_sec = t->second,
	};
	time_t s = timegm(&tm) + 3600;
	efi_time_t later = *t;

	gmtime_r(&s, &tm);
	later.year = tm.tm_year + 1900;
	later.month = tm.tm_mon + 1;
	later.day = tm.tm_mday;
	later.hour = tm.tm_hour;
	later.nanosecond = 0;
	return later;
}

TEST_F(services, wakeup_time_round_trips)
{
	efi_time_t now, alarm, got;
	efi_bool_t enabled = 0, pending = 0;
	efi_status_t st = ~0ULL;
	struct efi_setwakeuptime set = { 1, &alarm, &st };
	struct efi_getwakeuptime get = { &enabled, &pending, &got, &st };

	set_route(KERNEL);
	ASSERT_EQ(EFI_SUCCESS, get_time(self->fd, &now));
	alarm = one_hour_later(&now);
	set_route(EFIMM);
	ASSERT_EQ(0, ioctl(self->fd, EFI_RUNTIME_SET_WAKETIME, &set));
	ASSERT_EQ(EFI_SUCCESS, st);
	set_route(KERNEL);
	ASSERT_EQ(0, ioctl(self->fd, EFI_RUNTIME_GET_WAKETIME, &get));
	ASSERT_EQ(EFI_SUCCESS, st);
	EXPECT_EQ(1, enabled);
	EXPECT_EQ(alarm.hour, got.hour);
	EXPECT_EQ(alarm.minute, got.minute);
	/* Disable through the kernel, see it disabled through efimm. */
	set.enabled = 0;
	set.time = NULL;
	ASSERT_EQ(0, ioctl(self->fd, EFI_RUNTIME_SET_WAKETIME, &set));
	ASSERT_EQ(EFI_SUCCESS, st);
	set_route(EFIMM);
	ASSERT_EQ(0, ioctl(self->fd, EFI_RUNTIME_GET_WAKETIME, &get));
	ASSERT_EQ(EFI_SUCCESS, st);
	EXPECT_EQ(0, enabled);
	EXPECT_LE(2, counter("efimm.get_wakeup_time.calls") + counter("efimm.set_wakeup_time.calls"));
}

TEST_F(services, query_capsule_capabilities_same_answer)
{
	efi_capsule_header_t cap = { .headersize = sizeof(cap), .imagesize = sizeof(cap) };
	efi_capsule_header_t *caps[1] = { &cap };
	uint64_t kmax = 0, emax = 0;
	int kreset = -1, ereset = -1;
	efi_status_t kst = ~0ULL, est = ~0ULL;
	struct efi_querycapsulecapabilities k = { caps, 1, &kmax, &kreset, &kst };
	struct efi_querycapsulecapabilities e = { caps, 1, &emax, &ereset, &est };

	set_route(KERNEL);
	ioctl(self->fd, EFI_RUNTIME_QUERY_CAPSULECAPABILITIES, &k);
	set_route(EFIMM);
	ioctl(self->fd, EFI_RUNTIME_QUERY_CAPSULECAPABILITIES, &e);
	EXPECT_NE(~0ULL, kst);
	EXPECT_EQ(kst, est);
	EXPECT_EQ(kmax, emax);
	EXPECT_EQ(kreset, ereset);
	/* At CPL3 the capsule services stay on the kernel's path. */
	if (efimm_cpl3()) {
		EXPECT_LT(0, counter("efimm.query_capsule_caps.atomic_handoffs"));
	} else {
		EXPECT_LT(0, counter("efimm.query_capsule_caps.calls"));
	}
}

TEST_HARNESS_MAIN
