// SPDX-License-Identifier: GPL-2.0
/*
 * efimm_hostile: hostile firmware, made from outside efimm. Test-only, for
 * the efimm kselftests (hostile.sh).
 *
 * /sys/kernel/debug/efimm_hostile: write "arm" to rewrite the entry of the
 * real firmware's GetTime so that it stores the address of
 * hostile_target(), a function of this module, into the GetVariable slot
 * of the firmware's runtime services table and returns EFI_SUCCESS; write
 * "arm nmi", "arm cmos" or "arm pci" to make it drive a port instead and
 * return EFI_SUCCESS: the RTC index with the NMI mask bit set, CMOS
 * register 0x40 (the BIOS's, beyond the RTC) or the PCI configuration
 * address; "arm pmtimer" to make it read the ACPI PM timer twice and
 * return EFI_SUCCESS if it advanced, an error if not; "arm spin" to make
 * it spin for SPIN_MS on the TSC and return EFI_SUCCESS (a long firmware
 * call, for softirq.sh); "arm ud" to make it take an invalid opcode one
 * byte past its entry, "arm stray" to make it jump to address 0 (for
 * fault.sh and scripts/guest-oops.sh), "arm pf" to make it load from an
 * unmapped address above 4K (scripts/guest-rts-off.sh); write "disarm" to
 * put the code and the slot back. Read four lines:
 * "armed <0|1>", "slot_rewritten <0|1>" (the table's GetVariable slot holds
 * hostile_target() now: the payload ran), "target_calls <n>" (how often
 * hostile_target() ran: each run is a call in kernel mode of an address a
 * firmware store chose) and "get_time_entry <address>".
 *
 * /sys/kernel/debug/efimm_kernel_nb: write "1" to call the kernel's two
 * non-blocking variable services, as efi-pstore does at panic, through
 * efi.*: SetVariable deleting a variable of the tests' GUID, and
 * QueryVariableInfo. Read their statuses, "set_variable_nonblocking
 * <status>" and "query_variable_info_nonblocking <status>", in hex. Write
 * "shutdown" to call efi.reset_system(EFI_RESET_SHUTDOWN), as reboot does:
 * the write returns only if the firmware was not called, or did not power
 * the machine off. Write "panic" to panic the kernel from this task, with
 * no firmware call in flight: efi-pstore then writes its record through
 * the non-blocking SetVariable (scripts/guest-pstore.sh).
 *
 * watch_kernel=1: kprobes on the kernel's own wrappers that efimm hands its
 * atomic callers to (ResetSystem, the non-blocking SetVariable and
 * QueryVariableInfo) log each entry as "efimm_hostile: <wrapper> entered
 * by <comm>", in the kernel log and on QEMU's debug console, port 0xe9,
 * which the host records at once (scripts/vm.sh): the serial console's
 * last lines are lost when the machine resets. For scripts/guest-sysrq.sh
 * and scripts/guest-pstore.sh.
 *
 * /sys/kernel/debug/efimm_kernel_get_time, read-only (so that it stays
 * readable under lockdown, which refuses writes to debugfs): each read
 * calls efi.get_time() and prints "status <hex> <year>-<month>-<day>
 * <hour>:<minute>:<second>".
 *
 * Needs efi=lowmap: the firmware's virtual addresses are its physical ones.
 */

#include <linux/acpi.h>
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/efi.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/tsc.h>

static atomic64_t target_calls;

/*
 * Where the kernel lands if it calls the GetVariable slot after the
 * payload ran. Returns EFI_SUCCESS and touches nothing the firmware ABI
 * asks a callee to keep.
 */
static noinline efi_status_t hostile_target(void)
{
	atomic64_inc(&target_calls);
	return EFI_SUCCESS;
}

/*
 * movabs $hostile_target, %rax; movabs %rax, <GetVariable slot>;
 * xor %eax, %eax; ret
 */
#define PAYLOAD_LEN	23

static DEFINE_MUTEX(hostile_lock);
static u8 saved_code[PAYLOAD_LEN];
static u64 saved_slot;
static bool armed;
static struct dentry *hostile_file;

static u64 table_addr(void)
{
	return (u64)efi.runtime;
}

static u64 slot_addr(void)
{
	return table_addr() + offsetof(efi_runtime_services_t, get_variable);
}

/* The GetVariable slot as the firmware's table holds it now. */
static int read_slot(u64 *val)
{
	u64 *p = memremap(slot_addr(), sizeof(*p), MEMREMAP_WB);

	if (!p)
		return -ENOMEM;
	*val = READ_ONCE(*p);
	memunmap(p);
	return 0;
}

static int write_slot(u64 val)
{
	u64 *p = memremap(slot_addr(), sizeof(*p), MEMREMAP_WB);

	if (!p)
		return -ENOMEM;
	WRITE_ONCE(*p, val);
	memunmap(p);
	return 0;
}

/* The GetTime entry, read from the firmware's table. */
static int get_time_entry(u64 *entry)
{
	efi_runtime_services_t *rt = memremap(table_addr(), sizeof(*rt),
					      MEMREMAP_WB);

	if (!rt)
		return -ENOMEM;
	*entry = (u64)READ_ONCE(rt->get_time);
	memunmap(rt);
	return *entry ? 0 : -ENOENT;
}

/*
 * Payloads of fixed bytes: port accesses no firmware may make, each
 * followed by xor %eax, %eax; ret, and two exceptions.
 */
static const struct {
	const char *name;
	u8 len;
	u8 code[PAYLOAD_LEN];
} fixed_payloads[] = {
	/* mov $0x8f, %al; out %al, $0x70: the NMI mask bit. */
	{ "nmi", 7, { 0xb0, 0x8f, 0xe6, 0x70, 0x31, 0xc0, 0xc3 } },
	/* mov $0x40, %al; out %al, $0x70; in $0x71, %al: CMOS beyond the RTC. */
	{ "cmos", 9, { 0xb0, 0x40, 0xe6, 0x70, 0xe4, 0x71, 0x31, 0xc0, 0xc3 } },
	/* mov $0x80000000, %eax; mov $0xcf8, %edx; out %eax, (%dx). */
	{ "pci", 14, { 0xb8, 0x00, 0x00, 0x00, 0x80, 0xba, 0xf8, 0x0c, 0x00,
		       0x00, 0xef, 0x31, 0xc0, 0xc3 } },
	/* nop; ud2: an exception in the firmware's code, past its entry. */
	{ "ud", 3, { 0x90, 0x0f, 0x0b } },
	/* xor %eax, %eax; jmp *%rax: a stray jump to 0. */
	{ "stray", 4, { 0x31, 0xc0, 0xff, 0xe0 } },
	/*
	 * movabs $0x7ffffffff000, %rax; mov (%rax), %rax: a page fault above
	 * 4K, which the kernel's own path answers by disabling runtime
	 * services (efi_crash_gracefully_on_page_fault()).
	 */
	{ "pf", 13, { 0x48, 0xb8, 0x00, 0xf0, 0xff, 0xff, 0xff, 0x7f, 0x00,
		      0x00, 0x48, 0x8b, 0x00 } },
};

/* The slot payload: store hostile_target() into the GetVariable slot. */
static void slot_payload(u8 *code)
{
	u64 target = (u64)hostile_target, slot = slot_addr();

	code[0] = 0x48;		/* movabs $target, %rax */
	code[1] = 0xb8;
	memcpy(&code[2], &target, 8);
	code[10] = 0x48;	/* movabs %rax, slot */
	code[11] = 0xa3;
	memcpy(&code[12], &slot, 8);
	code[20] = 0x31;	/* xor %eax, %eax */
	code[21] = 0xc0;
	code[22] = 0xc3;	/* ret */
}

/*
 * mov $port, %edx; in (%dx), %eax; mov %eax, %ecx; in (%dx), %eax;
 * cmp %ecx, %eax; je 1f; xor %eax, %eax; ret; 1: stc; sbb %rax, %rax; ret
 */
static int pm_timer_payload(u8 *code)
{
	static const u8 tail[] = { 0xed, 0x89, 0xc1, 0xed, 0x39, 0xc8, 0x74,
				   0x03, 0x31, 0xc0, 0xc3, 0xf9, 0x48, 0x19,
				   0xc0, 0xc3 };
	struct acpi_generic_address *a = &acpi_gbl_FADT.xpm_timer_block;
	u32 port = a->address;

	if (acpi_disabled || a->space_id != ACPI_ADR_SPACE_SYSTEM_IO || !port)
		return -ENODEV;
	code[0] = 0xba;
	memcpy(&code[1], &port, 4);
	memcpy(&code[5], tail, sizeof(tail));
	return 0;
}

/* How long a GetTime armed with "spin" takes. */
#define SPIN_MS		250

/*
 * rdtsc; mov %eax, %ecx; 1: pause; rdtsc; sub %ecx, %eax;
 * cmp $cycles, %eax; jb 1b; xor %eax, %eax; ret
 */
static int spin_payload(u8 *code)
{
	static const u8 head[] = { 0x0f, 0x31, 0x89, 0xc1, 0xf3, 0x90, 0x0f,
				   0x31, 0x29, 0xc8, 0x3d };
	static const u8 tail[] = { 0x72, 0xf3, 0x31, 0xc0, 0xc3 };
	u64 cycles = (u64)tsc_khz * SPIN_MS;
	u32 imm = cycles;

	/* The low 32 bits of the TSC, compared modulo 2^32. */
	if (!cycles || cycles > U32_MAX)
		return -ERANGE;
	memcpy(code, head, sizeof(head));
	memcpy(&code[sizeof(head)], &imm, 4);
	memcpy(&code[sizeof(head) + 4], tail, sizeof(tail));
	return 0;
}

/* Rewrite GetTime's entry with @payload: "" for the slot payload. */
static int hostile_arm(const char *payload)
{
	int i = -1, ret;
	u64 entry;
	u8 *code;

	if (armed)
		return -EBUSY;
	if (!strcmp(payload, "pmtimer")) {
		i = ARRAY_SIZE(fixed_payloads);
	} else if (!strcmp(payload, "spin")) {
		i = ARRAY_SIZE(fixed_payloads) + 1;
	} else if (*payload) {
		for (i = 0; i < ARRAY_SIZE(fixed_payloads); i++)
			if (!strcmp(payload, fixed_payloads[i].name))
				break;
		if (i == ARRAY_SIZE(fixed_payloads))
			return -EINVAL;
	}
	ret = get_time_entry(&entry) ?: read_slot(&saved_slot);
	if (ret)
		return ret;
	code = memremap(entry, PAYLOAD_LEN, MEMREMAP_WB);
	if (!code)
		return -ENOMEM;
	memcpy(saved_code, code, PAYLOAD_LEN);
	if (i < 0)
		slot_payload(code);
	else if (i == ARRAY_SIZE(fixed_payloads))
		ret = pm_timer_payload(code);
	else if (i == ARRAY_SIZE(fixed_payloads) + 1)
		ret = spin_payload(code);
	else
		memcpy(code, fixed_payloads[i].code, fixed_payloads[i].len);
	memunmap(code);
	armed = !ret;
	return ret;
}

static int hostile_disarm(void)
{
	u64 entry;
	u8 *code;
	int ret;

	if (!armed)
		return 0;
	ret = get_time_entry(&entry);
	if (ret)
		return ret;
	code = memremap(entry, PAYLOAD_LEN, MEMREMAP_WB);
	if (!code)
		return -ENOMEM;
	memcpy(code, saved_code, PAYLOAD_LEN);
	memunmap(code);
	ret = write_slot(saved_slot);
	if (!ret)
		armed = false;
	return ret;
}

static int hostile_show(struct seq_file *m, void *v)
{
	u64 slot = 0, entry = 0;

	mutex_lock(&hostile_lock);
	read_slot(&slot);
	get_time_entry(&entry);
	seq_printf(m, "armed %d\nslot_rewritten %d\ntarget_calls %lld\nget_time_entry 0x%llx\n",
		   armed, slot == (u64)hostile_target,
		   atomic64_read(&target_calls), entry);
	mutex_unlock(&hostile_lock);
	return 0;
}

static ssize_t hostile_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char buf[16], *arg;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	arg = strim(buf);
	mutex_lock(&hostile_lock);
	if (!strcmp(arg, "arm"))
		ret = hostile_arm("");
	else if (!strncmp(arg, "arm ", 4))
		ret = hostile_arm(arg + 4);
	else if (sysfs_streq(buf, "disarm"))
		ret = hostile_disarm();
	else
		ret = -EINVAL;
	mutex_unlock(&hostile_lock);
	return ret ?: len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(hostile);

static efi_status_t nb_set_status, nb_query_status;
static struct dentry *nb_file;

static int nb_show(struct seq_file *m, void *v)
{
	mutex_lock(&hostile_lock);
	seq_printf(m, "set_variable_nonblocking %#lx\nquery_variable_info_nonblocking %#lx\n",
		   nb_set_status, nb_query_status);
	mutex_unlock(&hostile_lock);
	return 0;
}

static ssize_t nb_write(struct file *file, const char __user *ubuf,
			size_t len, loff_t *ppos)
{
	static efi_char16_t name[] = { 'E', 'f', 'i', 'm', 'm', 'N', 'b', 0 };
	efi_guid_t guid = EFI_GUID(0x210be57c, 0x9849, 0x4fc7, 0xa6, 0x35,
				   0xe6, 0x38, 0x2d, 0x1a, 0xec, 0x27);
	u32 attr = EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |
		   EFI_VARIABLE_RUNTIME_ACCESS;
	u64 storage, remaining, max_size;

	char buf[16];

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sysfs_streq(buf, "shutdown")) {
		if (!efi.reset_system)
			return -EOPNOTSUPP;
		efi.reset_system(EFI_RESET_SHUTDOWN, EFI_SUCCESS, 0, NULL);
		return len;
	}
	if (sysfs_streq(buf, "panic"))
		panic("efimm_hostile: panic requested\n");
	if (!sysfs_streq(buf, "1"))
		return -EINVAL;
	if (!efi.set_variable_nonblocking || !efi.query_variable_info_nonblocking)
		return -EOPNOTSUPP;
	mutex_lock(&hostile_lock);
	nb_set_status = efi.set_variable_nonblocking(name, &guid, attr, 0, NULL);
	nb_query_status = efi.query_variable_info_nonblocking(attr, &storage,
							      &remaining,
							      &max_size);
	mutex_unlock(&hostile_lock);
	return len;
}

DEFINE_SHOW_STORE_ATTRIBUTE(nb);

static struct dentry *get_time_file;

static int get_time_show(struct seq_file *m, void *v)
{
	efi_time_t tm = {};
	efi_status_t status;

	if (!efi.get_time)
		return -EOPNOTSUPP;
	status = efi.get_time(&tm, NULL);
	seq_printf(m, "status %#lx %04u-%02u-%02u %02u:%02u:%02u\n", status,
		   tm.year, tm.month, tm.day, tm.hour, tm.minute, tm.second);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(get_time);

static bool watch_kernel;
module_param(watch_kernel, bool, 0444);
MODULE_PARM_DESC(watch_kernel,
		 "Log entries into the kernel's ResetSystem and non-blocking variable services");

/* QEMU's isa-debugcon, which scripts/vm.sh puts there. */
#define DEBUGCON_PORT 0xe9

static int kernel_entered(struct kprobe *p, struct pt_regs *regs)
{
	char line[96];
	int i;

	snprintf(line, sizeof(line), "efimm_hostile: %s entered by %s\n",
		 p->symbol_name, current->comm);
	pr_info("%s", line);
	for (i = 0; line[i]; i++)
		outb(line[i], DEBUGCON_PORT);
	return 0;
}

static struct kprobe kernel_probes[] = {
	{ .symbol_name = "virt_efi_reset_system", .pre_handler = kernel_entered },
	{ .symbol_name = "virt_efi_set_variable_nb", .pre_handler = kernel_entered },
	{ .symbol_name = "virt_efi_query_variable_info_nb", .pre_handler = kernel_entered },
};

static struct kprobe *kernel_probe_list[] = {
	&kernel_probes[0], &kernel_probes[1], &kernel_probes[2],
};

static void hostile_remove_files(void)
{
	debugfs_remove(get_time_file);
	debugfs_remove(nb_file);
	debugfs_remove(hostile_file);
}

static int __init hostile_init(void)
{
	int ret;

	if (!efi_enabled(EFI_BOOT) || !efi.runtime)
		return -ENODEV;
	hostile_file = debugfs_create_file("efimm_hostile", 0600, NULL, NULL,
					   &hostile_fops);
	nb_file = debugfs_create_file("efimm_kernel_nb", 0600, NULL, NULL,
				      &nb_fops);
	/* Read-only: lockdown leaves such debugfs files readable. */
	get_time_file = debugfs_create_file("efimm_kernel_get_time", 0400, NULL,
					    NULL, &get_time_fops);
	ret = PTR_ERR_OR_ZERO(hostile_file) ?: PTR_ERR_OR_ZERO(nb_file) ?:
	      PTR_ERR_OR_ZERO(get_time_file);
	if (ret) {
		hostile_remove_files();
		return ret;
	}
	if (watch_kernel) {
		ret = register_kprobes(kernel_probe_list,
				       ARRAY_SIZE(kernel_probe_list));
		if (ret) {
			pr_err("efimm_hostile: cannot probe the kernel's wrappers: %d\n",
			       ret);
			hostile_remove_files();
			return ret;
		}
	}
	return 0;
}

static void __exit hostile_exit(void)
{
	if (watch_kernel)
		unregister_kprobes(kernel_probe_list,
				   ARRAY_SIZE(kernel_probe_list));
	hostile_remove_files();
	mutex_lock(&hostile_lock);
	if (hostile_disarm())
		pr_err("efimm_hostile: the firmware's GetTime stays rewritten\n");
	mutex_unlock(&hostile_lock);
}

module_init(hostile_init);
module_exit(hostile_exit);
MODULE_DESCRIPTION("efimm kselftest: firmware that makes the kernel call what it chose or drives ports; the kernel's non-blocking calls, reset, panic and GetTime, and probes on its atomic wrappers");
MODULE_LICENSE("GPL");
