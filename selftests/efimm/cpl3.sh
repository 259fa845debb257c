#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mode=cpl3: the firmware runs in user mode, in one task that lives across
# calls. efimm's own functions run there, preemptible and with their FPU
# state kept; and every way a firmware function can misbehave, made to
# through inject_fault, ends only its task: the caller gets EFI_ABORTED,
# the fault is counted by kind and described, the kernel log holds no oops
# or WARN, and after re-arming the next call works, in a new task. The kinds expected are what x86
# raises for each instruction in user mode: #GP for every privileged one
# and for a port outside the allowlist, #PF for the kernel's memory, a
# system call refused by seccomp, and a timeout for an endless loop.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

FAULT=$EFIMM_DEBUGFS/fault
INJECT=$EFIMM_DEBUGFS/inject_fault
BENCH=$EFIMM_DEBUGFS/bench
# Short, so that the endless loop's test ends soon.
TIMEOUT_MS=1000

# own_calls FUNCTION COUNT: COUNT calls of one of efimm's own functions
# succeed.
own_calls() {
	echo "$1 $2 efimm" >"$BENCH" && [ "$(bench_value errors)" = 0 ] &&
		[ "$(bench_value calls)" = "$2" ]
}

# efimm's kernel thread, by PID.
efimm_thread() {
	local pid
	for pid in $(pgrep -x efimm); do
		(($(awk '{ print $9 }' "/proc/$pid/stat") & 0x200000)) && echo "$pid"
	done
}

# The kernel's count of PID's context switches, both kinds.
switches() {
	awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }' "/proc/$1/status"
}

test_refuses_bad_parameters() {
	local p
	for p in mode=cpl1 mode= mode=CPL3x cpl3_timeout_ms=0 cpl3_timeout_ms=600001; do
		dmesg_mark
		insmod "$EFIMM_KO" "$p" 2>/dev/null && { efimm_unload; return 1; }
		efimm_loaded && return 1
		dmesg_new | grep -q 'efimm: .*must be' || { echo "# no reason logged for $p"; return 1; }
	done
}

test_loads() {
	dmesg_mark
	efimm_load mode=cpl3 cpl3_timeout_ms=$TIMEOUT_MS || return 1
	sed 's/^/# mode: /' "$EFIMM_DEBUGFS/mode"
	[ "$(head -n 1 "$EFIMM_DEBUGFS/mode")" = cpl3 ] &&
		grep -qx "cpl3_timeout_ms $TIMEOUT_MS" "$EFIMM_DEBUGFS/mode" &&
		dmesg_new | grep -q 'efimm: ready: .* firmware at cpl3'
}

test_null_calls() {
	local first thread task_before thread_before task_n thread_n
	own_calls null 1 || return 1
	first=$(firmware_tasks)
	thread=$(efimm_thread)
	[ -n "$first" ] && [ "$(wc -w <<<"$first")" = 1 ] && [ -n "$thread" ] || return 1
	task_before=$(switches "$first") thread_before=$(switches "$thread")
	own_calls null 50 || return 1
	task_n=$(($(switches "$first") - task_before))
	thread_n=$(($(switches "$thread") - thread_before))
	sed 's/^/# /' "$BENCH" | grep -E 'median|p99'
	echo "# firmware task: $first, after 50 calls: $(firmware_tasks);" \
		"context switches over them: the task's $task_n, efimm's thread's $thread_n"
	# One task, the same for every call (the only one: no call runs the
	# firmware elsewhere), which ran (it sleeps between calls only when
	# the next comes after it zeroed its stack: 23 of 50 once); the caller
	# hands it the call, not efimm's thread, which sleeps throughout.
	[ "$(firmware_tasks)" = "$first" ] && [ "$task_n" -ge 1 ] && [ "$thread_n" -lt 5 ]
}

test_spin_keeps_fpu() {
	own_calls spin 3
}

# Every page the cpl3 mm maps is a user one, mapped once: the runtime
# regions and efimm's own pages (stub page, stack, bounce area), nothing
# writable and executable, nothing global.
test_address_space() {
	sed 's/^/# /' "$EFIMM_DEBUGFS/page_tables_summary"
	[ "$(summary user_pages)" = "$(summary mapped_pages)" ] &&
		[ "$(summary wx_pages)" = 0 ] && [ "$(summary global_pages)" = 0 ] &&
		[ "$(summary unmapped_runtime_pages)" = 0 ] &&
		[ "$(summary extra_mapped_pages)" = 0 ] &&
		[ "$(summary mapped_pages)" = $(($(summary runtime_pages) + $(summary null_call_pages))) ] &&
		[ "$(summary null_call_pages)" -gt 1 ] &&
		! grep -q 'RW.*x ' "$EFIMM_DEBUGFS/page_tables"
}

# The firmware's address space as the kernel itself shows it: the VMAs of
# the firmware task in /proc/PID/maps. Every
# runtime region of the firmware's own types (runtime code and data, MMIO,
# reserved, OEM) lies in a VMA; none of the memory the kernel reserved for
# itself with EFI_MEMORY_RUNTIME (boot services and loader memory: the
# MAT, ESRT, BGRT image, TPM log), and no VMA is writable and executable.
FIRMWARE_TYPES=" 0 5 6 10 11 12 13 "

# MAPS: the VMAs of the firmware task, if any.
catch_firmware_maps() {
	local f comm
	MAPS=()
	for f in /proc/[0-9]*/comm; do
		read -r comm 2>/dev/null <"$f" || continue
		[ "$comm" = efimm ] || continue
		# The kernel thread has no maps; its task does.
		mapfile -t MAPS 2>/dev/null <"${f%comm}maps"
		[ ${#MAPS[@]} -gt 0 ] && return 0
	done
	return 1
}

test_maps_only_firmware_memory() {
	local d ty start end range perms line mapped owned=0 kernels=0
	own_calls null 1 && catch_firmware_maps || { echo "# no firmware task"; return 1; }
	printf '# maps: %s\n' "${MAPS[@]}"
	for line in "${MAPS[@]}"; do
		read -r range perms _ <<<"$line"
		[[ "$perms" != *w*x* ]] || { echo "# a VMA is writable and executable"; return 1; }
	done
	for d in /sys/firmware/efi/runtime-map/*/; do
		ty=$(($(cat "$d/type")))
		start=$(($(cat "$d/phys_addr")))
		end=$((start + $(cat "$d/num_pages") * 4096))
		mapped=0
		for line in "${MAPS[@]}"; do
			range=${line%% *}
			((0x${range%-*} < end && start < 0x${range#*-})) && mapped=$((mapped + 1))
		done
		if [[ "$FIRMWARE_TYPES" == *" $ty "* ]] || ((ty >= 0x70000000 && ty <= 0x7fffffff)); then
			owned=$((owned + 1))
			[ "$mapped" -gt 0 ] || { echo "# type $ty at $start not mapped"; return 1; }
		else
			kernels=$((kernels + 1))
			[ "$mapped" -eq 0 ] || { echo "# the kernel's type $ty at $start is mapped"; return 1; }
		fi
	done
	echo "# $owned firmware regions mapped, $kernels of the kernel's left out"
	[ "$owned" -gt 0 ]
}

# GetTime reads the RTC (ports 0x70-0x71), which efimm emulates.
test_time_through_allowed_ports() {
	echo "get_time 3 efimm" >"$BENCH" && [ "$(bench_value errors)" = 0 ]
}

BOOT_ORDER=/sys/firmware/efi/efivars/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
TEST_VAR=/sys/firmware/efi/efivars/efimmCpl3-6b3c1f7e-52a4-4d0f-9f6e-0c6a1b2d3e4f

# Routed: efivarfs reads what the kernel's path reads, and a variable
# written at CPL3 reads back through the kernel's path. The pages the
# firmware wrote (its stack, the data it returned) were zeroed after.
test_routed_efivarfs() {
	local theirs ours back
	theirs=$(od -An -tx1 "$BOOT_ORDER") || return 1
	echo 1 >"$EFIMM_DEBUGFS/route" || return 1
	ours=$(od -An -tx1 "$BOOT_ORDER") || return 1
	printf '\x07\x00\x00\x00cpl3' >"$TEST_VAR" || return 1
	echo 0 >"$EFIMM_DEBUGFS/route" || return 1
	# efivarfs files cannot seek: skip the attributes through a pipe.
	back=$(cat "$TEST_VAR" | tail -c +5) || return 1
	chattr -i "$TEST_VAR" 2>/dev/null
	rm -f "$TEST_VAR" || return 1
	[ "$theirs" = "$ours" ] && [ "$back" = cpl3 ] &&
		[ "$(counter efimm.get_variable.calls)" -gt 0 ] &&
		[ "$(counter efimm.set_variable.calls)" -gt 0 ] &&
		[ "$(counter efimm.get_variable.scrubbed_pages)" -gt 0 ]
}

# oversized_size_refused KIND: a GetVariable that returns a size efivarfs
# would allocate or read by: EFI_SUCCESS with one larger than the buffer
# it was given (oversize), or EFI_BUFFER_TOO_SMALL with 2^64 - 1, which
# wraps efivarfs' allocation (huge_size). Refused, with EFI_DEVICE_ERROR;
# not a fault.
oversized_size_refused() {
	local err
	dmesg_mark
	echo 1 >"$EFIMM_DEBUGFS/route" && echo "$1" >"$INJECT" || return 1
	if err=$(od -An -tx1 "$BOOT_ORDER" 2>&1 >/dev/null); then
		echo "# the read succeeded"
		echo 0 >"$EFIMM_DEBUGFS/route"
		return 1
	fi
	echo 0 >"$EFIMM_DEBUGFS/route" || return 1
	echo "# read: $err"
	dmesg_new | grep -q 'efimm: get_variable returned a size or name larger than its buffer' &&
		[ "$(fault_field state)" = armed ] && od -An -tx1 "$BOOT_ORDER" >/dev/null
}

# fault_cycle KIND EXCEPTION CAUSE: the null call takes KIND in user mode.
fault_cycle() {
	local kind=$1 exception=$2 cause=$3 faults kinds task
	own_calls null 1 || return 1
	task=$(firmware_tasks)
	faults=$(fault_field faults)
	kinds=$(fault_field "exception.$exception")
	dmesg_mark
	echo "$kind" >"$INJECT" || return 1
	echo "null 1 efimm" >"$BENCH" || return 1
	echo "# $kind: $(fault_field last_exception), $(fault_field last_cause), ip $(fault_field last_ip)"
	dmesg_new | grep efimm | sed 's/^/# dmesg: /'
	[ "$(bench_value errors)" = 1 ] && [ "$(bench_value last_error)" = EFI_ABORTED ] &&
		[ "$(fault_field faults)" -eq $((faults + 1)) ] &&
		[ "$(fault_field "exception.$exception")" -eq $((${kinds:-0} + 1)) ] &&
		[ "$(fault_field state)" = disarmed ] &&
		[ "$(fault_field last_service)" = null ] &&
		[ "$(fault_field last_exception)" = "$exception" ] || return 1
	if [ -n "$cause" ] && [ "$(fault_field last_cause)" != "$cause" ]; then
		return 1
	fi
	dmesg_new | grep -q "efimm: null took $exception at ip" || return 1
	if dmesg_new | grep -Eq 'Oops|WARNING:|BUG:|Call Trace'; then
		echo "# the kernel log is not clean"
		return 1
	fi
	# Refused until re-armed; then the next call works.
	echo "null 1 efimm" 2>/dev/null >"$BENCH" && return 1
	# The task that faulted is gone; the next call has a new one.
	echo rearm >"$FAULT" && [ "$(fault_field state)" = armed ] &&
		own_calls null 2 || return 1
	echo "# firmware task: $task, after the fault: $(firmware_tasks)"
	[ "$(wc -w <<<"$(firmware_tasks)")" = 1 ] && [ "$(firmware_tasks)" != "$task" ]
}

# on_stub_page IP: IP lies on efimm's own page.
on_stub_page() {
	local page
	page=$(summary null_call_page)
	[ $(($1)) -ge $((page)) ] && [ $(($1)) -lt $((page + 4096)) ]
}

# stub_fault KIND EXCEPTION [CAUSE]: a fault on efimm's own page.
stub_fault() {
	fault_cycle "$@" && on_stub_page "$(fault_field last_ip)"
}

CASES=(
	"ud2 (#UD)|stub_fault ud invalid_opcode 'invalid opcode'"
	"int3 (#BP)|stub_fault int3 breakpoint int3"
	"divide by zero (#DE)|stub_fault de divide_error 'divide error'"
	"non-canonical load (#GP)|stub_fault gp general_protection 'general protection fault'"
	"cli (#GP)|stub_fault irqs_off general_protection 'general protection fault'"
	"hlt (#GP)|stub_fault hlt general_protection 'general protection fault'"
	"wrmsr (#GP)|stub_fault wrmsr general_protection 'general protection fault'"
	"out to a port outside the allowlist (#GP)|stub_fault port general_protection 'general protection fault'"
	"read of a kernel address (#PF)|stub_fault kernel_read page_fault 'user read access, permissions violation'"
	"write to a read-only page (#PF)|stub_fault write_ro page_fault 'user write access, permissions violation'"
	"jump to an NX firmware data page (#PF)|fault_cycle nx page_fault 'user instruction fetch, permissions violation'"
	"jump to the unmapped address 0 (#PF)|fault_cycle unmapped page_fault 'user instruction fetch, not-present page'"
	"a system call (seccomp)|stub_fault syscall syscall 'system call'"
	"an endless loop (timeout)|stub_fault hang timeout timeout"
	"a completion record forged in memory, then a hang (timeout)|stub_fault forge timeout timeout"
	"the trampoline's return ioctl() made from firmware code (system call)|stub_fault fake_return syscall 'system call'"
)

# Nothing a call writes reaches a later call: one leaves markers 1M into
# the bounce area, below its stack pointer and in the upper half of ymm1,
# the next returns what it finds there as its status, which must be 0
# (EFI_SUCCESS). Twice: the second time into pages the first already
# wrote, whose entries a scrub may leave dirty.
test_no_leftovers() {
	local round

	for round in 1 2; do
		echo leak_store >"$INJECT" && own_calls null 1 || return 1
		echo leak_load >"$INJECT" || return 1
		echo "null 1 efimm" >"$BENCH" || return 1
		if [ "$(bench_value errors)" != 0 ]; then
			echo "# round $round: the second call found $(bench_value last_error)"
			return 1
		fi
	done
	[ "$(fault_field state)" = armed ]
}

# A fatal signal ends a caller's wait at once, but not its call, which
# firmware stopped halfway could get wrong: the firmware hangs, its caller
# is killed and gone within 3 s, and the call ends at its timeout, 15 s
# after it began (room for the debug kernel's slow start), a fault that efimm's thread records. The next caller
# waits for its turn meanwhile, and is then refused until re-armed. A
# writer (SetVariable), whose caller must learn how its call ended, waits
# for it even when killed.
KILL_TIMEOUT_MS=15000
test_killed_caller() {
	killed_reader && killed_writer
}

# kill_hung_call CALL: make the bench call CALL ("null 1 efimm") hang in
# a child, kill -9 the child once it waits for the firmware and set gone
# to how many ms it took to be gone. Not in a subshell, whose wait would
# not see the child.
kill_hung_call() {
	local caller t0 i

	echo hang >"$INJECT" || return 1
	(echo "$1" >"$BENCH") 2>/dev/null &
	caller=$!
	# Until it waits for the firmware, which runs the hang.
	for i in $(seq 100); do
		grep -q efimm_cpl3 "/proc/$caller/wchan" 2>/dev/null && break
		sleep 0.1
	done
	t0=$(date +%s%N)
	kill -9 $caller
	wait $caller 2>/dev/null
	gone=$((($(date +%s%N) - t0) / 1000000))
}

killed_writer() {
	local gone faults

	faults=$(fault_field faults)
	kill_hung_call "set_variable 1 efimm" || return 1
	echo "# the killed writer was gone after $gone ms"
	[ "$gone" -gt 3000 ] && [ "$gone" -lt $((KILL_TIMEOUT_MS + 3000)) ] &&
		[ "$(fault_field faults)" -eq $((faults + 1)) ] &&
		[ "$(fault_field last_exception)" = timeout ] &&
		[ "$(fault_field last_service)" = set_variable ] &&
		echo rearm >"$FAULT" && own_calls null 1
}

killed_reader() {
	local faults t0 gone next task kernel kernel_ms

	efimm_unload && efimm_load mode=cpl3 cpl3_timeout_ms=$KILL_TIMEOUT_MS &&
		own_calls null 1 || return 1
	task=$(firmware_tasks) faults=$(fault_field faults)
	dmesg_mark
	kill_hung_call "null 1 efimm" || return 1
	echo "# the killed caller was gone after $gone ms"
	[ "$gone" -lt 3000 ] || return 1
	dmesg_new | grep -q 'efimm: null: caller killed' || return 1
	# Still in the firmware: no fault yet; the next caller waits for its
	# turn, and one through the kernel's path for the runtime lock.
	[ "$(fault_field faults)" = "$faults" ] || { echo "# ended early"; return 1; }
	kernel_ms=$(mktemp)
	t0=$(date +%s%N)
	(echo "get_time 1 kernel" >"$BENCH"
		echo $((($(date +%s%N) - t0) / 1000000)) >"$kernel_ms") 2>/dev/null &
	echo "null 1 efimm" 2>/dev/null >"$BENCH" && return 1
	next=$((($(date +%s%N) - t0) / 1000000))
	wait
	kernel=$(cat "$kernel_ms")
	rm -f "$kernel_ms"
	echo "# the next caller was refused after $next ms, the kernel's path answered after $kernel ms"
	[ "$next" -gt 3000 ] && [ "$kernel" -gt 3000 ] &&
		[ "$(fault_field faults)" -eq $((faults + 1)) ] &&
		[ "$(fault_field last_exception)" = timeout ] &&
		[ "$(fault_field last_service)" = null ] || return 1
	if dmesg_new | grep -Eq 'Oops|WARNING:|BUG:|Call Trace|blocked for more'; then
		echo "# the kernel log is not clean"
		return 1
	fi
	echo rearm >"$FAULT" && own_calls null 2 &&
		[ "$(wc -w <<<"$(firmware_tasks)")" = 1 ] && [ "$(firmware_tasks)" != "$task" ]
}

test_unloads() {
	dmesg_mark
	efimm_unload && dmesg_new | grep -q 'dedicated mm released (mm_users 0)' &&
		[ -z "$(firmware_tasks)" ]
}

require_lowmap
ktap_print_header
efimm_unload || ktap_exit_fail_msg "cannot unload efimm"
ktap_set_plan $((13 + ${#CASES[@]}))
ktap_test_result "bad mode and timeout parameters are refused, with a reason" test_refuses_bad_parameters
ktap_test_result "mode=cpl3 loads, and debugfs says so" test_loads
ktap_test_result "null calls at CPL3 succeed, all in one firmware task, none through efimm's thread" test_null_calls
ktap_test_result "the spin call's FPU registers survive at CPL3" test_spin_keeps_fpu
ktap_test_result "the cpl3 mm maps only user pages, each once, none W+X" test_address_space
ktap_test_result "the firmware task's VMAs cover its own memory, none of the kernel's" test_maps_only_firmware_memory
ktap_test_result "GetTime at CPL3 reads the RTC through efimm's port emulator" test_time_through_allowed_ports
ktap_test_result "routed efivarfs reads and writes go through CPL3" test_routed_efivarfs
ktap_test_result "a size larger than the caller's buffer is refused" oversized_size_refused oversize
ktap_test_result "a needed size of 2^64 - 1 is refused" oversized_size_refused huge_size
ktap_test_result "no call finds what an earlier one left in its bounce area, stack or registers" test_no_leftovers
for c in "${CASES[@]}"; do
	ktap_test_result "contained at CPL3: ${c%%|*}" eval "${c#*|}"
done
ktap_test_result "a killed caller leaves at once; its hung call times out later" test_killed_caller
ktap_test_result "unloading frees the cpl3 mm and leaves no task" test_unloads
ktap_finished
