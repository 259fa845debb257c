// SPDX-License-Identifier: GPL-2.0

//! The one place efimm touches raw kernel interfaces.
//!
//! C glue: [rust/efimm_helpers.c](../rust/efimm_helpers.c). Every `unsafe`
//! block of the module lives here; the rest of efimm uses the safe types
//! and functions below, whose signatures carry the rules (a guard for the
//! EFI runtime lock, a token for "running on the efimm thread inside the
//! dedicated mm", owned references for the mm and the thread).

use crate::call::Shared;
use crate::counters::COUNTERS;
use crate::efi::memmap::{CacheMode, MemoryDescriptor, Protection};
use crate::efi::{service::Service, status::EfiStatus};
use crate::mm::RuntimeMap;
use crate::request::Request;
use crate::route;
use core::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::{from_err_ptr, to_result},
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Release},
        Arc,
    },
};

/// `struct efimm_mm` (the mm and the file behind its VMAs), only ever
/// handled by pointer.
#[repr(C)]
struct RawMm {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct task_struct`, only ever handled by pointer.
#[repr(C)]
struct RawTask {
    _opaque: [u8; 0],
    _not_send_sync_unpin: PhantomData<(*mut u8, PhantomPinned)>,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CallResult {
    /// The `EFI_STATUS` the firmware returned.
    pub(crate) status: u64,
    /// How long the bracket kept preemption disabled.
    pub(crate) preempt_off_ns: u64,
    /// The firmware changed the IRQ flags (they were restored).
    pub(crate) irq_flags_corrupted: bool,
    /// The firmware took a CPU exception; `status` is `EFI_ABORTED`.
    pub(crate) faulted: bool,
    /// Its vector (`X86_TRAP_*`).
    pub(crate) fault_vector: i32,
    pub(crate) fault_address: u64,
    pub(crate) fault_ip: u64,
    pub(crate) fault_error_code: u64,
}

extern "C" {
    fn efimm_runtime_services_enabled() -> bool;
    fn efimm_booted_lowmap() -> bool;
    fn efimm_user_limit() -> c_ulong;
    fn efimm_p4d_folded() -> bool;
    fn efimm_runtime_table() -> c_ulong;
    fn efimm_memmap_copy(out: *mut MemoryDescriptor, max: c_ulong) -> c_long;
    fn efimm_mat_copy(out: *mut MemoryDescriptor, max: c_ulong) -> c_long;
    fn efimm_mm_create() -> *mut RawMm;
    fn efimm_mm_destroy(mm: *mut RawMm) -> c_int;
    fn efimm_mm_counts(mm: *mut RawMm, users: *mut c_int, count: *mut c_int);
    fn efimm_map_region(
        mm: *mut RawMm,
        addr: c_ulong,
        size: c_ulong,
        cache: c_uint,
        write: bool,
        exec: bool,
        huge: bool,
    ) -> c_int;
    fn efimm_map_null_call(mm: *mut RawMm, addr: c_ulong) -> c_int;
    fn efimm_mm_kernel_top_level(mm: *mut RawMm, addr: c_ulong) -> c_int;
    fn efimm_huge_mappings_supported() -> bool;
    fn efimm_thread_start(
        f: unsafe extern "C" fn(*mut c_void) -> c_int,
        data: *mut c_void,
    ) -> *mut RawTask;
    fn efimm_thread_stop(t: *mut RawTask);
    fn efimm_use_mm(mm: *mut RawMm);
    fn efimm_unuse_mm(mm: *mut RawMm);
    fn efimm_runtime_lock() -> c_int;
    fn efimm_runtime_unlock();
    fn efimm_firmware_call(
        mm: *mut RawMm,
        f: *const c_void,
        args: *const u64,
        res: *mut CallResult,
    );
    fn efimm_clock_ns() -> u64;
    fn efimm_sort_u64(v: *mut u64, n: usize);
    fn efimm_ptdump_walk(mm: *mut RawMm, start: c_ulong, end: c_ulong, ctx: *mut c_void);
    fn efimm_kernel_ops_save();
    fn efimm_kernel_call(slot: c_uint, args: *const u64) -> c_ulong;
    fn efimm_route_set(routed: bool) -> c_int;
    fn efimm_probes_register() -> c_int;
    fn efimm_probes_unregister();
    fn efimm_firmware_overlaps() -> u64;
    fn efimm_kernel_fw_calls(last_preempt_off_ns: *mut u64) -> u64;
    fn efimm_kernel_fw_probes_set(on: bool) -> c_int;
    fn efimm_kernel_fw_probes_armed() -> bool;
    fn efimm_lockdown_check() -> c_int;
}

/// Whether the kernel may call EFI runtime services at all.
pub(crate) fn runtime_services_enabled() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { efimm_runtime_services_enabled() }
}

/// `Err(EPERM)` if kernel lockdown forbids userspace to drive runtime
/// services directly, as it does for efi_test.
pub(crate) fn lockdown_check() -> Result {
    // SAFETY: Asks the LSMs about a lockdown reason; no preconditions.
    to_result(unsafe { efimm_lockdown_check() })
}

/// Whether the runtime regions were given to SetVirtualAddressMap 1:1.
pub(crate) fn booted_lowmap() -> bool {
    // SAFETY: Reads a flag of the exported `struct efi`; no preconditions.
    unsafe { efimm_booted_lowmap() }
}

/// End of the lower half (`TASK_SIZE_MAX`).
pub(crate) fn user_limit() -> u64 {
    // SAFETY: Returns a constant of the running kernel; no preconditions.
    unsafe { efimm_user_limit() as u64 }
}

/// Whether the p4d level is folded into the pgd (4-level paging).
pub(crate) fn p4d_folded() -> bool {
    // SAFETY: Reads a boot-time paging mode; no preconditions.
    unsafe { efimm_p4d_folded() }
}

/// Whether this kernel can map PFNs with 2M entries
/// (`CONFIG_ARCH_SUPPORTS_PMD_PFNMAP`, which needs transparent huge pages).
pub(crate) fn large_pfn_mappings_supported() -> bool {
    // SAFETY: Returns a build-time constant; no preconditions.
    unsafe { efimm_huge_mappings_supported() }
}

/// Address of `EFI_RUNTIME_SERVICES` (1:1 mapped in the dedicated mm).
pub(crate) fn runtime_table() -> u64 {
    // SAFETY: Reads `efi.runtime`, set once at boot; no preconditions.
    unsafe { efimm_runtime_table() as u64 }
}

/// Reads a descriptor array with a C copier that reports the full count.
fn copy_descriptors(
    copy: unsafe extern "C" fn(*mut MemoryDescriptor, c_ulong) -> c_long,
) -> Result<KVec<MemoryDescriptor>> {
    // SAFETY: A null buffer with room for 0 entries only asks for the count.
    let n = unsafe { copy(core::ptr::null_mut(), 0) };
    let n = usize::try_from(n).map_err(|_| Error::from_errno(n as c_int))?;
    let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
    // SAFETY: `out` has room for `n` descriptors, which is what we pass.
    let got = unsafe { copy(out.as_mut_ptr(), n as c_ulong) };
    let got = usize::try_from(got).map_err(|_| Error::from_errno(got as c_int))?;
    if got != n {
        // The map changed between the two calls: it never does after boot.
        return Err(EAGAIN);
    }
    // SAFETY: The copier initialised the first `n` entries.
    unsafe { out.inc_len(n) };
    Ok(out)
}

/// The EFI memory map, as the kernel keeps it (`efi.memmap`).
pub(crate) fn memory_map() -> Result<KVec<MemoryDescriptor>> {
    copy_descriptors(efimm_memmap_copy)
}

/// The Memory Attributes Table entries (empty without a MAT).
pub(crate) fn memory_attributes() -> Result<KVec<MemoryDescriptor>> {
    copy_descriptors(efimm_mat_copy)
}

/// Nanoseconds of `local_clock()`.
pub(crate) fn clock_ns() -> u64 {
    // SAFETY: `local_clock()` has no preconditions.
    unsafe { efimm_clock_ns() }
}

/// Sorts `v` in place (the kernel's heapsort).
pub(crate) fn sort_u64(v: &mut [u64]) {
    // SAFETY: `v` is a valid, exclusive slice of `v.len()` elements.
    unsafe { efimm_sort_u64(v.as_mut_ptr(), v.len()) }
}

/// An `mm_struct` of efimm's own, from `mm_alloc()`, with the file its
/// VMAs map.
///
/// # Invariants
///
/// `self.0` comes from `efimm_mm_create()` and is destroyed only by `Drop`;
/// it holds the mm's one `mm_users` reference.
pub(crate) struct OwnedMm(NonNull<RawMm>);

// SAFETY: An mm may be referenced and released from any task.
unsafe impl Send for OwnedMm {}
// SAFETY: What `&OwnedMm` allows from several tasks at once is safe
// concurrently: `counts()` reads two atomics, a ptdump walk takes the mmap
// lock, and entering the mm or calling the firmware in it needs the one
// efimm thread's token, borrowed mutably.
unsafe impl Sync for OwnedMm {}

impl OwnedMm {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No preconditions; returns a new mm (`mm_users == 1`, ours)
        // or NULL.
        let mm = unsafe { efimm_mm_create() };
        // INVARIANT: A non-null result carries the reference we now own.
        NonNull::new(mm).map(OwnedMm).ok_or(ENOMEM)
    }

    /// `(mm_users, mm_count)`, for debugfs.
    pub(crate) fn counts(&self) -> (i32, i32) {
        let (mut users, mut count) = (0, 0);
        // SAFETY: The mm is live (type invariant); the C side only reads atomics.
        unsafe { efimm_mm_counts(self.0.as_ptr(), &mut users, &mut count) };
        (users, count)
    }

    /// Keeps the firmware executable under page-table isolation, which
    /// makes lower-half top-level entries with the user bit NX: allocates
    /// the tables down to `addr`, which must be a page the mm will map
    /// with a 4K entry, and takes the user bit off the top-level entry.
    /// Only before the mm is first entered.
    pub(crate) fn make_top_level_kernel_only(&self, addr: u64) -> Result {
        // SAFETY: the mm is live (type invariant); the C side refuses once
        // it was entered, takes the mmap and page-table locks, and
        // allocates through the mm's own page-table code.
        to_result(unsafe { efimm_mm_kernel_top_level(self.0.as_ptr(), addr as c_ulong) })
    }

    /// Enters the mm with `kthread_use_mm()` for as long as the guard
    /// lives; dropping it leaves the mm and switches the CPU to `init_mm`.
    /// The thread token is borrowed mutably: one guard at a time.
    pub(crate) fn enter<'a>(&'a self, _thread: &'a mut OnEfimmThread) -> MmUse<'a> {
        // SAFETY: `OnEfimmThread` proves we run on a kthread, and its
        // exclusive borrow that no other `MmUse` has it in an mm; the mm is
        // live for `'a` (type invariant and borrow).
        unsafe { efimm_use_mm(self.0.as_ptr()) };
        MmUse {
            mm: self,
            _not_send: PhantomData,
        }
    }

    /// Walks `[start, end)` of the page tables, reporting every entry.
    pub(crate) fn walk_page_tables(&self, start: u64, end: u64, sink: &mut dyn PtdumpSink) {
        let mut sink: &mut dyn PtdumpSink = sink;
        let ctx = core::ptr::from_mut(&mut sink).cast::<c_void>();
        // SAFETY: The mm is live; `ctx` points to a `&mut dyn PtdumpSink`
        // that outlives the walk, which is what the callbacks below expect.
        // `ptdump_walk_pgd()` takes the mmap locks itself.
        unsafe { efimm_ptdump_walk(self.0.as_ptr(), start as c_ulong, end as c_ulong, ctx) };
    }
}

impl Drop for OwnedMm {
    fn drop(&mut self) {
        // SAFETY: We own the mm (type invariant) and no thread is still
        // inside it: `MmUse` borrows `self`.
        let users = unsafe { efimm_mm_destroy(self.0.as_ptr()) };
        pr_info!("dedicated mm released (mm_users {users})\n");
    }
}

/// The dedicated mm is `current->mm` while this lives. Not `Send`: it
/// is left by the thread that entered it.
pub(crate) struct MmUse<'a> {
    mm: &'a OwnedMm,
    _not_send: PhantomData<*mut ()>,
}

impl MmUse<'_> {
    /// Maps `[addr, addr + size)` 1:1 as one supervisor-only, non-global
    /// VMA, with 2M entries if `large` (both ends must be 2M aligned).
    pub(crate) fn map_region(
        &self,
        addr: u64,
        size: u64,
        cache: CacheMode,
        prot: Protection,
        large: bool,
    ) -> Result {
        let cache = match cache {
            CacheMode::WriteBack => 0,
            CacheMode::WriteThrough => 1,
            CacheMode::WriteCombining => 2,
            CacheMode::Uncached => 3,
        };
        // SAFETY: `current->mm` is the dedicated mm (guard), and only this
        // thread changes it; the C side validates the remaining arguments.
        to_result(unsafe {
            efimm_map_region(
                self.mm.0.as_ptr(),
                addr as c_ulong,
                size as c_ulong,
                cache,
                prot.write,
                prot.exec,
                large,
            )
        })
    }

    /// Maps at `addr` a page of efimm's own holding the null call, a
    /// function that does nothing and returns `EFI_SUCCESS`, and one
    /// function per [`Stub`], executable like firmware code; the page goes
    /// with the mm.
    pub(crate) fn map_stub_page(&self, addr: u64) -> Result<StubPage> {
        // SAFETY: `current->mm` is the dedicated mm (guard), and only this
        // thread changes it; the C side checks the address and allocates.
        to_result(unsafe { efimm_map_null_call(self.mm.0.as_ptr(), addr as c_ulong) })?;
        Ok(StubPage(addr))
    }
}

/// The functions on efimm's own page in the dedicated mm that take a CPU
/// exception, at the offsets `EFIMM_STUB_*` of `efimm_helpers.h`.
#[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stub {
    /// `ud2`: #UD.
    InvalidOpcode = 0x10,
    /// `int3`: #BP.
    Breakpoint = 0x20,
    /// A division by zero: #DE.
    DivideError = 0x30,
    /// A load from a non-canonical address: #GP.
    GeneralProtection = 0x40,
}

/// Offset of the null call on the stub page (`EFIMM_STUB_NULL`).
const STUB_NULL: u64 = 0;

/// The page of [`MmUse::map_stub_page`], mapped executable in the mm.
#[derive(Clone, Copy)]
pub(crate) struct StubPage(u64);

impl StubPage {
    /// The null call.
    pub(crate) fn null_call(&self) -> FirmwareFn {
        // INVARIANT: the page is mapped executable and holds the null call
        // at this offset.
        FirmwareFn(self.0 + STUB_NULL)
    }

    /// A function that takes the exception `stub` names at once; the
    /// handler efimm registered with the thread resumes the call with
    /// `EFI_ABORTED` (fault injection).
    #[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
    pub(crate) fn faulting(&self, stub: Stub) -> FirmwareFn {
        // INVARIANT: as for `null_call`, at the stub's offset.
        FirmwareFn(self.0 + stub as u64)
    }
}

impl Drop for MmUse<'_> {
    fn drop(&mut self) {
        // SAFETY: `enter()` did `kthread_use_mm()` on this mm on this thread.
        unsafe { efimm_unuse_mm(self.mm.0.as_ptr()) };
    }
}

/// Receives the entries of a page-table walk.
pub(crate) trait PtdumpSink {
    fn note(&mut self, addr: u64, level: usize, val: u64);
    fn effective(&mut self, level: usize, val: u64);
    fn flush(&mut self);
}

/// Levels the walker reports: pgd (0) to pte (4).
const PTDUMP_LEVELS: c_int = 5;

/// # Safety
///
/// `ctx` is the pointer `walk_page_tables()` passed: a live `&mut dyn PtdumpSink`.
unsafe fn sink_of<'a>(ctx: *mut c_void) -> &'a mut dyn PtdumpSink {
    // SAFETY: Guaranteed by the caller.
    unsafe { *ctx.cast::<&mut dyn PtdumpSink>() }
}

/// # Safety
///
/// Called by `efimm_ptdump_walk()` only, with the `ctx` that
/// `walk_page_tables()` passed it.
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_note(ctx: *mut c_void, addr: c_ulong, level: c_int, val: u64) {
    if (0..PTDUMP_LEVELS).contains(&level) {
        // SAFETY: Only called by `efimm_ptdump_walk()` with our `ctx`.
        unsafe { sink_of(ctx) }.note(addr as u64, level as usize, val);
    }
}

/// # Safety
///
/// As for [`efimm_ptdump_note`].
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_effective(ctx: *mut c_void, level: c_int, val: u64) {
    if (0..PTDUMP_LEVELS).contains(&level) {
        // SAFETY: Only called by `efimm_ptdump_walk()` with our `ctx`.
        unsafe { sink_of(ctx) }.effective(level as usize, val);
    }
}

/// # Safety
///
/// As for [`efimm_ptdump_note`].
#[no_mangle]
unsafe extern "C" fn efimm_ptdump_flush(ctx: *mut c_void) {
    // SAFETY: Only called by `efimm_ptdump_walk()` with our `ctx`.
    unsafe { sink_of(ctx) }.flush();
}

/// Proof that the code runs on the efimm kthread, which owns no mm of its
/// own. Only [`Thread`] creates one, for the thread's main function.
pub(crate) struct OnEfimmThread(());

/// The body of the efimm kthread.
pub(crate) trait ThreadMain: Send + Sync + 'static {
    fn run(&self, thread: &mut OnEfimmThread);
}

/// A kthread running `T::run`, stopped and reaped on drop.
///
/// # Invariants
///
/// `task` is a kthread started by `efimm_thread_start()` on which we hold a
/// task reference; `data` outlives it because we keep it until after
/// `kthread_stop()` returns.
pub(crate) struct Thread<T: ThreadMain> {
    task: NonNull<RawTask>,
    _data: Arc<T>,
}

// SAFETY: The task reference and the `Arc` can be dropped from any task.
unsafe impl<T: ThreadMain> Send for Thread<T> {}
// SAFETY: `&Thread` gives access to nothing.
unsafe impl<T: ThreadMain> Sync for Thread<T> {}

/// # Safety
///
/// `data` is the `Arc<T>` pointer `Thread::start()` passed, and stays
/// valid until this function returns.
unsafe extern "C" fn thread_trampoline<T: ThreadMain>(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Arc<T>` pointer `Thread::start()` passed, kept
    // alive by the `Thread` until this function has returned.
    let data = unsafe { &*data.cast::<T>() };
    data.run(&mut OnEfimmThread(()));
    0
}

impl<T: ThreadMain> Thread<T> {
    /// Starts the thread. `T::run` must return once asked to (efimm's own
    /// stop flag): `drop` waits for it.
    pub(crate) fn start(data: Arc<T>) -> Result<Self> {
        let ptr = Arc::as_ptr(&data).cast_mut().cast::<c_void>();
        // SAFETY: The trampoline matches `T`; `ptr` stays valid while the
        // thread runs (the `Arc` moves into the returned `Thread`).
        let task = from_err_ptr(unsafe { efimm_thread_start(thread_trampoline::<T>, ptr) })?;
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        // INVARIANT: `efimm_thread_start()` took a task reference for us.
        Ok(Thread { task, _data: data })
    }
}

impl<T: ThreadMain> Drop for Thread<T> {
    fn drop(&mut self) {
        // SAFETY: We hold a task reference (type invariant); `kthread_stop()`
        // waits for `T::run` to return before we drop `data`.
        unsafe { efimm_thread_stop(self.task.as_ptr()) };
    }
}

/// Holding the EFI runtime lock: nobody else is inside the firmware. Not
/// `Send`, like the kernel's lock guards: released by its holder.
pub(crate) struct RuntimeLockGuard(PhantomData<*mut ()>);

impl RuntimeLockGuard {
    /// Takes the lock, sleeping; `EINTR` if a signal arrives first. Callers
    /// that cannot sleep never get here: they are handed to the kernel's
    /// own path (see `route.rs`).
    pub(crate) fn lock() -> Result<Self> {
        // SAFETY: Process context; released by `Drop`.
        to_result(unsafe { efimm_runtime_lock() })?;
        Ok(RuntimeLockGuard(PhantomData))
    }
}

impl Drop for RuntimeLockGuard {
    fn drop(&mut self) {
        // SAFETY: We hold the lock (type invariant).
        unsafe { efimm_runtime_unlock() };
    }
}

/// A function efimm calls in the dedicated mm.
///
/// # Invariants
///
/// The address is a runtime service entry point read from the firmware's
/// table, in a piece of runtime code mapped executable in the dedicated
/// mm; or a function on efimm's stub page there; or, for fault injection,
/// an address the mm does not map executable, whose first fetch faults.
#[derive(Clone, Copy)]
pub(crate) struct FirmwareFn(u64);

impl FirmwareFn {
    /// The entry point at `addr`, read from the firmware's runtime services
    /// table, if it lies in a piece of runtime code that `mm` maps
    /// executable.
    pub(crate) fn entry(_mm: &MmUse<'_>, map: &RuntimeMap, addr: u64) -> Option<Self> {
        map.is_executable(addr).then_some(FirmwareFn(addr))
    }

    /// `addr` if the dedicated mm does not map it executable: calling it
    /// faults on the first instruction fetch, and the handler efimm
    /// registered with the thread resumes the call with `EFI_ABORTED`
    /// (fault injection).
    pub(crate) fn faulting(map: &RuntimeMap, addr: u64) -> Option<Self> {
        (!map.is_executable(addr)).then_some(FirmwareFn(addr))
    }

    /// Calls the firmware in `mm` with up to five arguments, bracketed like
    /// the kernel's own calls: the thread enters `mm` with preemption off
    /// for the call and leaves it after. The pointers in `args` must stay
    /// valid for the call: the typed constructors in `request.rs` build
    /// them from borrows.
    pub(crate) fn call(
        self,
        _lock: &RuntimeLockGuard,
        mm: &OwnedMm,
        _thread: &mut OnEfimmThread,
        args: &[u64; 5],
    ) -> CallResult {
        let mut res = CallResult::default();
        // SAFETY: We hold the runtime lock and run on the efimm thread
        // outside any mm (the token is borrowed mutably, so no `MmUse` is
        // alive); the mm is live (type invariant). In it the address is an
        // entry point or a stub mapped executable, or not executable at all
        // so that the call faults at once and the fixup registered for this
        // thread resumes it (`FirmwareFn` invariant); the argument pointers
        // are valid kernel addresses for the call.
        unsafe {
            efimm_firmware_call(
                mm.0.as_ptr(),
                self.0 as *const c_void,
                args.as_ptr(),
                &mut res,
            )
        };
        res
    }
}

/// Remembers the kernel's own `efi.*` wrappers, before any routing.
pub(crate) fn save_kernel_path() {
    // SAFETY: Copies function pointers of the exported `struct efi`; called
    // once at load, before efimm changes them.
    unsafe { efimm_kernel_ops_save() }
}

/// Runs `request` through the kernel's own wrapper for its service.
pub(crate) fn kernel_call(request: &Request<'_>) -> EfiStatus {
    let raw = request.raw();
    // SAFETY: `request` holds borrows valid for the call (see `Request`),
    // laid out as the firmware ABI wants, which is also what the kernel's
    // wrappers take.
    EfiStatus(
        unsafe { efimm_kernel_call(raw.service().slot() as c_uint, raw.args().as_ptr()) } as u64,
    )
}

/// The efimm call path the route trampolines hand calls to, null when
/// routing is off.
static ROUTE_TARGET: Atomic<*const Shared> = Atomic::new(core::ptr::null());

/// While it lives, the kernel's EFI users (efivarfs, efi-pstore, efi_test,
/// reboot) call the firmware through `target`.
///
/// # Invariants
///
/// `ROUTE_TARGET` points into the `Arc` held here for the guard's life.
pub(crate) struct Routing {
    _target: Arc<Shared>,
}

impl Routing {
    pub(crate) fn new(target: Arc<Shared>) -> Self {
        ROUTE_TARGET.store(Arc::as_ptr(&target), Release);
        // SAFETY: The trampolines only use `ROUTE_TARGET`, which is live.
        if unsafe { efimm_route_set(true) } != 0 {
            pr_warn!("another efivars backend is registered: efivarfs and efi-pstore stay on it\n");
        }
        Routing { _target: target }
    }
}

impl Drop for Routing {
    fn drop(&mut self) {
        // SAFETY: Restores the saved pointers and waits until no task runs
        // in or is on its way into a trampoline. Its one error is the one
        // `new` reported.
        unsafe { efimm_route_set(false) };
        ROUTE_TARGET.store(core::ptr::null(), Release);
    }
}

/// # Safety
///
/// Called by the route trampolines of `efimm_helpers.c` only: `args`
/// points to five arguments the kernel passed to `efi.<slot>`, valid until
/// this returns, and `Routing` keeps `ROUTE_TARGET` alive meanwhile.
#[no_mangle]
unsafe extern "C" fn efimm_route_call(slot: c_uint, args: *const u64) -> c_ulong {
    let Some(service) = Service::from_slot(slot as usize) else {
        return EfiStatus::UNSUPPORTED.0 as c_ulong;
    };
    // SAFETY: The trampolines pass an array of five arguments.
    let args = unsafe { *args.cast::<[u64; 5]>() };
    // SAFETY: These are the arguments the kernel passed to `efi.<service>`,
    // valid until we return.
    let request = unsafe { Request::from_kernel(service, args) };
    let target = ROUTE_TARGET.load(Acquire);
    // SAFETY: Non-null only while `Routing` holds the `Arc`, and `Routing`'s
    // drop waits for every caller of this function to return.
    let target = unsafe { target.as_ref() };
    route::dispatch(target, &request).0 as c_ulong
}

#[no_mangle]
extern "C" fn efimm_route_handoff(slot: c_uint) {
    if let Some(service) = Service::from_slot(slot as usize) {
        COUNTERS.handoff(service);
    }
}

#[no_mangle]
extern "C" fn efimm_tlb_event(reason: c_int, pages: c_ulong) {
    if let Ok(reason) = usize::try_from(reason) {
        COUNTERS.tlb_flush(reason, pages as u64);
    }
}

#[no_mangle]
extern "C" fn efimm_tlb_global_flush() {
    COUNTERS.global_flush();
}

/// The `tlb_flush` tracepoint probe, the global-flush kprobes and the
/// probes on the kernel's firmware call bracket, for as long as this lives.
pub(crate) struct Probes(());

impl Probes {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Registers static probes; undone by `Drop`.
        to_result(unsafe { efimm_probes_register() })?;
        Ok(Probes(()))
    }
}

impl Drop for Probes {
    fn drop(&mut self) {
        // SAFETY: Registered by `register()`; waits for running probes.
        unsafe { efimm_probes_unregister() };
    }
}

/// How often a call entered the firmware while another was inside, since
/// load: efimm's calls, and the kernel path's while watched. The EFI
/// runtime lock must keep it at zero.
pub(crate) fn firmware_overlaps() -> u64 {
    // SAFETY: Reads an atomic counter; no preconditions.
    unsafe { efimm_firmware_overlaps() }
}

/// Arms (`true`) or disarms the probes on the kernel's firmware bracket,
/// which feed the two functions below and cost each kernel-path call two
/// breakpoint traps. Disarmed when [`Probes`] drops.
pub(crate) fn watch_kernel_path(on: bool) -> Result {
    // SAFETY: Registers or unregisters static probes under a C mutex.
    to_result(unsafe { efimm_kernel_fw_probes_set(on) })
}

pub(crate) fn kernel_path_watched() -> bool {
    // SAFETY: Reads a flag; no preconditions.
    unsafe { efimm_kernel_fw_probes_armed() }
}

/// Firmware calls the kernel's path made while watched, and how long the
/// latest kept preemption off.
pub(crate) fn kernel_firmware_calls() -> (u64, u64) {
    let mut last = 0;
    // SAFETY: Reads two counters into a local; no preconditions.
    let n = unsafe { efimm_kernel_fw_calls(&mut last) };
    (n, last)
}

/// `-EOPNOTSUPP`, which the kernel crate has no constant for.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as c_int))
}
