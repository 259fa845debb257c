/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl ABI of the kernel's efi_test module
 * (drivers/firmware/efi/test/efi_test.h), with user-space types.
 */
#ifndef EFIMM_EFI_TEST_ABI_H
#define EFIMM_EFI_TEST_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

typedef uint64_t efi_status_t;
typedef uint16_t efi_char16_t;
typedef uint8_t efi_bool_t;
typedef struct { uint8_t b[16]; } efi_guid_t;

typedef struct {
	uint16_t year;
	uint8_t month, day, hour, minute, second, pad1;
	uint32_t nanosecond;
	int16_t timezone;
	uint8_t daylight, pad2;
} efi_time_t;

typedef struct {
	uint32_t resolution, accuracy;
	uint8_t sets_to_zero;
} efi_time_cap_t;

typedef struct {
	efi_guid_t guid;
	uint32_t headersize, flags, imagesize;
} efi_capsule_header_t;

#define EFI_SUCCESS		0
#define EFI_ERROR		(1ULL << 63)
#define EFI_INVALID_PARAMETER	(EFI_ERROR | 2)
#define EFI_UNSUPPORTED		(EFI_ERROR | 3)
#define EFI_BUFFER_TOO_SMALL	(EFI_ERROR | 5)
#define EFI_NOT_FOUND		(EFI_ERROR | 14)

#define EFI_VARIABLE_NON_VOLATILE	0x1
#define EFI_VARIABLE_BOOTSERVICE_ACCESS	0x2
#define EFI_VARIABLE_RUNTIME_ACCESS	0x4

struct efi_getvariable {
	efi_char16_t *variable_name;
	efi_guid_t *vendor_guid;
	uint32_t *attributes;
	unsigned long *data_size;
	void *data;
	efi_status_t *status;
} __attribute__((packed));

struct efi_setvariable {
	efi_char16_t *variable_name;
	efi_guid_t *vendor_guid;
	uint32_t attributes;
	unsigned long data_size;
	void *data;
	efi_status_t *status;
} __attribute__((packed));

struct efi_getnextvariablename {
	unsigned long *variable_name_size;
	efi_char16_t *variable_name;
	efi_guid_t *vendor_guid;
	efi_status_t *status;
} __attribute__((packed));

struct efi_queryvariableinfo {
	uint32_t attributes;
	uint64_t *maximum_variable_storage_size;
	uint64_t *remaining_variable_storage_size;
	uint64_t *maximum_variable_size;
	efi_status_t *status;
} __attribute__((packed));

struct efi_gettime {
	efi_time_t *time;
	efi_time_cap_t *capabilities;
	efi_status_t *status;
} __attribute__((packed));

struct efi_settime {
	efi_time_t *time;
	efi_status_t *status;
} __attribute__((packed));

struct efi_getwakeuptime {
	efi_bool_t *enabled;
	efi_bool_t *pending;
	efi_time_t *time;
	efi_status_t *status;
} __attribute__((packed));

struct efi_setwakeuptime {
	efi_bool_t enabled;
	efi_time_t *time;
	efi_status_t *status;
} __attribute__((packed));

struct efi_getnexthighmonotoniccount {
	uint32_t *high_count;
	efi_status_t *status;
} __attribute__((packed));

struct efi_querycapsulecapabilities {
	efi_capsule_header_t **capsule_header_array;
	unsigned long capsule_count;
	uint64_t *maximum_capsule_size;
	int *reset_type;
	efi_status_t *status;
} __attribute__((packed));

struct efi_resetsystem {
	int reset_type;
	efi_status_t status;
	unsigned long data_size;
	efi_char16_t *data;
} __attribute__((packed));

#define EFI_RUNTIME_GET_VARIABLE	_IOWR('p', 0x01, struct efi_getvariable)
#define EFI_RUNTIME_SET_VARIABLE	_IOW('p', 0x02, struct efi_setvariable)
#define EFI_RUNTIME_GET_TIME		_IOR('p', 0x03, struct efi_gettime)
#define EFI_RUNTIME_SET_TIME		_IOW('p', 0x04, struct efi_settime)
#define EFI_RUNTIME_GET_WAKETIME	_IOR('p', 0x05, struct efi_getwakeuptime)
#define EFI_RUNTIME_SET_WAKETIME	_IOW('p', 0x06, struct efi_setwakeuptime)
#define EFI_RUNTIME_GET_NEXTVARIABLENAME \
	_IOWR('p', 0x07, struct efi_getnextvariablename)
#define EFI_RUNTIME_QUERY_VARIABLEINFO	_IOR('p', 0x08, struct efi_queryvariableinfo)
#define EFI_RUNTIME_GET_NEXTHIGHMONOTONICCOUNT \
	_IOR('p', 0x09, struct efi_getnexthighmonotoniccount)
#define EFI_RUNTIME_QUERY_CAPSULECAPABILITIES \
	_IOR('p', 0x0A, struct efi_querycapsulecapabilities)
#define EFI_RUNTIME_RESET_SYSTEM	_IOW('p', 0x0B, struct efi_resetsystem)

#endif /* EFIMM_EFI_TEST_ABI_H */
