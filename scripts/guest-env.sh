# SPDX-License-Identifier: GPL-2.0
# Sourced inside the VM: the mounts and paths every guest script needs.

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q /sys/firmware/efi/efivars 2>/dev/null ||
	mount -t efivarfs none /sys/firmware/efi/efivars 2>/dev/null || true

# Set by scripts/vm.sh in the guest command's environment:
# EFIMM_TOP (the checkout), EFIMM_CACHE, EFIMM_KBUILD (the kernel build),
# EFIMM_FW (pflash or bios), EFIMM_KO and EFI_TEST_KO (the modules) and
# EFIMM_KSFT_INSTALL (the kselftests as scripts/selftests.sh installed
# them, or make check's copy).
export EFIMM_TOP EFIMM_CACHE EFIMM_KBUILD EFIMM_FW EFIMM_KO EFI_TEST_KO EFIMM_KSFT_INSTALL
