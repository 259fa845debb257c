/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime service calls through the efi_test ioctls, and efimm's debugfs
 * switches, for the efimm kselftests in C. efi_test reports the firmware's
 * status through the status pointer even when the ioctl fails, so the call
 * helpers return that status (all ones if the ioctl never got that far).
 */
#ifndef EFI_TEST_CALLS_H
#define EFI_TEST_CALLS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest.h"
#include "efi_test_abi.h"

#define DEBUGFS "/sys/kernel/debug/efimm/"

enum path { KERNEL = 0, EFIMM = 1 };

static const efi_guid_t global_guid = { {
	0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
	0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c } };
static const efi_guid_t test_guid = { {
	0x2c, 0x9f, 0x3e, 0x5d, 0x11, 0x7a, 0x4b, 0x42,
	0x8e, 0x41, 0x65, 0x66, 0x69, 0x6d, 0x6d, 0x01 } };

static inline void set_route(enum path p)
{
	int fd = open(DEBUGFS "route", O_WRONLY);

	if (fd < 0 || write(fd, p == EFIMM ? "1" : "0", 1) != 1) {
		perror("route");
		exit(KSFT_FAIL);
	}
	close(fd);
}

/* One value of efimm's counters file, 0 if absent. */
static inline unsigned long long counter(const char *key)
{
	unsigned long long v, found = 0;
	char k[128];
	FILE *f = fopen(DEBUGFS "counters", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%127s %llu", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

/* Whether efimm runs the firmware at CPL3 (the first line of its mode file). */
static inline bool efimm_cpl3(void)
{
	char mode[8] = "";
	FILE *f = fopen(DEBUGFS "mode", "r");

	if (!f)
		return false;
	if (fscanf(f, "%7s", mode) != 1)
		mode[0] = 0;
	fclose(f);
	return !strcmp(mode, "cpl3");
}

static inline void ascii_to_ucs2(const char *s, efi_char16_t *out)
{
	do
		*out++ = (unsigned char)*s;
	while (*s++);
}

static inline efi_status_t get_time(int fd, efi_time_t *t)
{
	efi_time_cap_t cap;
	efi_status_t st = ~0ULL;
	struct efi_gettime a = { t, &cap, &st };

	ioctl(fd, EFI_RUNTIME_GET_TIME, &a);
	return st;
}

static inline efi_status_t get_variable(int fd, const char *name,
					const efi_guid_t *guid, uint32_t *attr,
					void *data, unsigned long *size)
{
	efi_char16_t n[64];
	efi_guid_t g = *guid;
	efi_status_t st = ~0ULL;
	struct efi_getvariable a = { n, &g, attr, size, data, &st };

	ascii_to_ucs2(name, n);
	ioctl(fd, EFI_RUNTIME_GET_VARIABLE, &a);
	return st;
}

static inline efi_status_t set_variable(int fd, const char *name,
					const efi_guid_t *guid, uint32_t attr,
					const void *data, unsigned long size)
{
	efi_char16_t n[64];
	efi_guid_t g = *guid;
	efi_status_t st = ~0ULL;
	struct efi_setvariable a = { n, &g, attr, size, (void *)data, &st };

	ascii_to_ucs2(name, n);
	ioctl(fd, EFI_RUNTIME_SET_VARIABLE, &a);
	return st;
}

static inline efi_status_t mono_count(int fd, uint32_t *count)
{
	efi_status_t st = ~0ULL;
	struct efi_getnexthighmonotoniccount a = { count, &st };

	ioctl(fd, EFI_RUNTIME_GET_NEXTHIGHMONOTONICCOUNT, &a);
	return st;
}

static inline efi_status_t query_info(int fd, uint64_t out[3])
{
	efi_status_t st = ~0ULL;
	struct efi_queryvariableinfo a = {
		EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |
		EFI_VARIABLE_RUNTIME_ACCESS, &out[0], &out[1], &out[2], &st };

	ioctl(fd, EFI_RUNTIME_QUERY_VARIABLEINFO, &a);
	return st;
}

#endif /* EFI_TEST_CALLS_H */
