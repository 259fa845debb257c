# SPDX-License-Identifier: GPL-2.0
#
# efimm: build the patched kernel, the module and the selftests, and run
# them in a virtme-ng VM under OVMF. Everything is cached in $(EFIMM_CACHE).
#
#   make run     build everything, boot, load efimm, show it, unload
#   make check   host unit tests + the kselftests in both firmware modes
#   make stress  the kselftests at full counts (fuzzing, churn, concurrency),
#                and on a debug kernel (lockdep, KASAN, atomic-sleep checks)
#                and a PREEMPT_RT kernel
#   make debug   just the debug kernel, and efimm.ko and the selftests for it
#   make rt      just the PREEMPT_RT kernel, efimm.ko and the selftests
#   make bench   efimm against the kernel's own path: table, JSON, chart
#   make module  just efimm.ko (KDIR=/path/to/build for another kernel)
#   make check-patches  checkpatch --strict and a kernel build after each patch
#
# Variables: FW=pflash|bios and MODE=cpl0|cpl3 (make run; cpl3 runs the
# firmware in user mode), KSRC=/path/to/linux (your own, already patched
# tree), KDIR=/path/to/kernel/build (module only).

EFIMM_CACHE ?= $(HOME)/.cache/efimm
export EFIMM_CACHE
# One clock for every script of this make: stages print time since start.
_efimm_t0 := $(shell date +%s)
export _efimm_t0

SCRIPTS := $(CURDIR)/scripts
FW ?= pflash
MODE ?= cpl0

ifeq ($(KDIR),)
KDIR_FROM_CACHE := 1
KDIR = $(shell $(SCRIPTS)/kernel.sh env | sed -n 's/^KBUILD_DIR=//p')
endif

# The tools the cached kernel was built with; a KDIR of your own builds
# efimm.ko with its own (the kernel's defaults, or RUSTC=, BINDGEN= and
# LIBCLANG_PATH= on the command line): the module runs bindgen too.
ifeq ($(KDIR_FROM_CACHE),1)
KMAKE_TOOLS = RUSTC=/usr/bin/rustc BINDGEN=$(EFIMM_CACHE)/cargo/bin/bindgen \
	LIBCLANG_PATH="$(wildcard $(EFIMM_CACHE)/venv/lib/python3*/site-packages/clang/native)"
endif

.PHONY: all deps kernel module selftests run check stress debug rt bench check-patches host-test clean

all: module selftests

deps:
	@$(SCRIPTS)/deps.sh

kernel: deps
	@$(SCRIPTS)/kernel.sh build

ifeq ($(KDIR_FROM_CACHE),1)
module: kernel
endif
module:
	@echo "==> module: efimm.ko against $(KDIR)"
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KMAKE_TOOLS) modules
	@$(SCRIPTS)/sign-module.sh $(KDIR) $(CURDIR)/efimm.ko

selftests: kernel
	@$(SCRIPTS)/selftests.sh build

host-test: kernel
	@$(SCRIPTS)/host-test.sh

run: module selftests
	@$(SCRIPTS)/vm.sh run $(FW) $(MODE)

check: module selftests
	@$(SCRIPTS)/check.sh

stress: module selftests debug rt
	@$(SCRIPTS)/stress.sh

debug rt: deps
	@$(SCRIPTS)/other-kernel.sh $@

# The PREEMPT_RT kernel only for a bench that boots it (RUNS= unset, or a -rt run)
BENCH_RT = $(if $(RUNS),$(if $(filter %-rt,$(RUNS)),rt),rt)
bench: module selftests $(BENCH_RT)
	@$(SCRIPTS)/deps.sh bench
	@$(SCRIPTS)/bench.sh

check-patches: deps
	@$(SCRIPTS)/check-patches.sh

clean:
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf out
