// SPDX-License-Identifier: GPL-2.0

//! The efimm call path: one kernel thread that lives in the dedicated mm
//! and runs every firmware call, one at a time, for callers that queue a
//! request and wait. At CPL3 a caller hands its call to the firmware's
//! task itself, and the thread only starts that task.

use crate::counters::{
    CallCost,
    PathId,
    COUNTERS, //
};
use crate::efi::{
    service::{
        Service,
        TABLE_HEADER_BYTES, //
    },
    status::EfiStatus, //
};
use crate::fault::{
    Fault,
    FaultLog, //
};
use crate::lend::Waiting;
use crate::mm::RuntimeMap;
use crate::path::{
    OwnReturn,
    Path, //
};
use crate::request::{
    FirmwareArgs,
    RawRequest,
    Request, //
};
use crate::sys::{
    self,
    AbandonedCall,
    CallResult,
    Cpl3Args,
    Cpl3Call,
    FirmwareFn,
    MmUse,
    Mode,
    OnEfimmThread,
    OwnFunction,
    OwnedMm,
    RuntimeLockGuard,
    Stub,
    StubPage,
    ThreadMain, //
};
use core::fmt;
use kernel::{
    new_condvar,
    prelude::*,
    static_lock_class,
    sync::CondVar,
    time::{
        Instant,
        Monotonic, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

/// `EFI_RUNTIME_SERVICES_SIGNATURE` ("RUNTSERV").
const RUNTIME_SERVICES_SIGNATURE: u64 = 0x5652_4553_544e_5552;

/// Where the thread is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Ready,
    Failed(Error),
    Stopping,
}

/// A fault efimm can make the next call take, to test its recovery. Only
/// the `inject_fault` debugfs file sets it, and that file exists only in
/// kernels built for fault injection.
#[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum InjectedFault {
    /// Enter the firmware at its first data page: a fetch from an NX page.
    NonExecutable,
    /// Enter it at address 0, which the mm does not map: a NULL pointer.
    Unmapped,
    /// Run one of efimm's stubs, which misbehaves like broken firmware.
    Stub(Stub),
}

impl InjectedFault {
    #[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
    pub(crate) const ALL: [InjectedFault; 21] = [
        InjectedFault::NonExecutable,
        InjectedFault::Unmapped,
        InjectedFault::Stub(Stub::GeneralProtection),
        InjectedFault::Stub(Stub::InvalidOpcode),
        InjectedFault::Stub(Stub::DivideError),
        InjectedFault::Stub(Stub::Breakpoint),
        InjectedFault::Stub(Stub::LateInvalidOpcode),
        InjectedFault::Stub(Stub::IrqsOff),
        InjectedFault::Stub(Stub::Halt),
        InjectedFault::Stub(Stub::WriteMsr),
        InjectedFault::Stub(Stub::KernelRead),
        InjectedFault::Stub(Stub::WriteReadOnly),
        InjectedFault::Stub(Stub::SystemCall),
        InjectedFault::Stub(Stub::Hang),
        InjectedFault::Stub(Stub::Port),
        InjectedFault::Stub(Stub::Oversize),
        InjectedFault::Stub(Stub::HugeSize),
        InjectedFault::Stub(Stub::Forge),
        InjectedFault::Stub(Stub::LeakStore),
        InjectedFault::Stub(Stub::LeakLoad),
        InjectedFault::Stub(Stub::FakeReturn),
    ];

    /// Its name in `inject_fault`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            InjectedFault::NonExecutable => "nx",
            InjectedFault::Unmapped => "unmapped",
            InjectedFault::Stub(Stub::GeneralProtection) => "gp",
            InjectedFault::Stub(Stub::InvalidOpcode) => "ud",
            InjectedFault::Stub(Stub::DivideError) => "de",
            InjectedFault::Stub(Stub::Breakpoint) => "int3",
            InjectedFault::Stub(Stub::LateInvalidOpcode) => "late_ud",
            InjectedFault::Stub(Stub::IrqsOff) => "irqs_off",
            InjectedFault::Stub(Stub::Halt) => "hlt",
            InjectedFault::Stub(Stub::WriteMsr) => "wrmsr",
            InjectedFault::Stub(Stub::KernelRead) => "kernel_read",
            InjectedFault::Stub(Stub::WriteReadOnly) => "write_ro",
            InjectedFault::Stub(Stub::SystemCall) => "syscall",
            InjectedFault::Stub(Stub::Hang) => "hang",
            InjectedFault::Stub(Stub::Port) => "port",
            InjectedFault::Stub(Stub::Oversize) => "oversize",
            InjectedFault::Stub(Stub::HugeSize) => "huge_size",
            InjectedFault::Stub(Stub::Forge) => "forge",
            InjectedFault::Stub(Stub::LeakStore) => "leak_store",
            InjectedFault::Stub(Stub::LeakLoad) => "leak_load",
            InjectedFault::Stub(Stub::FakeReturn) => "fake_return",
        }
    }

    /// Whether a call in `mode` can contain it.
    fn allowed_in(self, mode: Mode) -> bool {
        match self {
            InjectedFault::Stub(stub) => mode == Mode::Cpl3 || !stub.cpl3_only(),
            _ => true,
        }
    }

    fn target(self, mm: &OwnedMm, map: &RuntimeMap, stubs: &StubPage) -> Option<FirmwareFn> {
        let faulting = |addr| FirmwareFn::faulting(mm, addr);
        match self {
            InjectedFault::NonExecutable => map.first_data_page().and_then(faulting),
            InjectedFault::Unmapped => (!map.is_mapped(0)).then_some(0).and_then(faulting),
            InjectedFault::Stub(stub) => Some(stubs.faulting(stub)),
        }
    }
}

/// A call: a runtime service, or one of efimm's own functions. One the
/// thread runs is dropped before its result reaches the caller: a
/// `RawRequest` points into the caller's borrows.
enum Call {
    Service(RawRequest),
    Own(OwnFunction),
}

/// What a caller hands the thread.
enum Job {
    /// Make a call, in the cpl0 mode: its caller waits for the result.
    Call(Call),
    /// Start the cpl3 mode's firmware task, to which callers then hand
    /// their calls themselves.
    StartTask,
    /// Finish a cpl3 call whose caller was killed, and end its turn.
    Finish(Abandoned),
}

/// A cpl3 call whose caller was killed while the firmware ran it.
struct Abandoned {
    call: AbandonedCall,
    name: &'static str,
}

/// How a cpl3 call its caller made ended.
enum Direct {
    Done(CallResult),
    Abandoned(Abandoned),
}

impl Call {
    fn name(&self) -> &'static str {
        match self {
            Call::Service(r) => r.service().name(),
            Call::Own(f) => f.name(),
        }
    }
}

struct Slot {
    state: State,
    /// A caller owns the slot, from submitting until taking its result,
    /// or the thread, from a killed caller's `Job::Finish` to its end.
    busy: bool,
    request: Option<Job>,
    result: Option<Result<CallResult>>,
    faults: FaultLog,
    inject: Option<InjectedFault>,
    /// The entry points, once the thread has read them: at CPL3 a caller
    /// makes its call with them (`submit`).
    entries: Option<EntryPoints>,
    /// The callers in `submit`, whose highest priority the thread and the
    /// firmware task run at (`crate::lend`), unless `lend` is off.
    waiting: Waiting,
    lend: bool,
}

impl Slot {
    /// Runs the thread and the firmware task at the priority the callers
    /// waiting lend them now.
    fn lend(&self) {
        sys::lend_priority(self.waiting.highest().filter(|_| self.lend));
    }
}

/// What the module and the thread share.
#[pin_data]
pub(crate) struct Shared {
    mm: OwnedMm,
    map: RuntimeMap,
    /// How long a cpl3 call may run before its task is killed.
    cpl3_timeout_ns: u64,
    /// Passes its waiters' priority on to its holder (`sys::RtMutex`).
    #[pin]
    mailbox: sys::RtMutex<Slot>,
    #[pin]
    to_thread: CondVar,
    #[pin]
    to_caller: CondVar,
}

impl Shared {
    pub(crate) fn new(mm: OwnedMm, map: RuntimeMap, cpl3_timeout_ns: u64) -> impl PinInit<Self> {
        pin_init!(Shared {
            mm,
            map,
            cpl3_timeout_ns,
            mailbox <- sys::RtMutex::new(Slot {
                state: State::Starting,
                busy: false,
                request: None,
                result: None,
                // The firmware faulted under an earlier efimm, which
                // closed the kernel's path: the same state, until re-armed.
                faults: FaultLog::new(sys::runtime_closed()),
                inject: None,
                entries: None,
                waiting: Waiting::new(),
                lend: true,
            }, c"efimm_mailbox", static_lock_class!()),
            to_thread <- new_condvar!(),
            to_caller <- new_condvar!(),
        })
    }

    pub(crate) fn mm(&self) -> &OwnedMm {
        &self.mm
    }

    pub(crate) fn map(&self) -> &RuntimeMap {
        &self.map
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mm.mode()
    }

    pub(crate) fn cpl3_timeout_ns(&self) -> u64 {
        self.cpl3_timeout_ns
    }

    /// Waits for the thread to finish setting up; its error if it failed.
    pub(crate) fn wait_ready(&self) -> Result {
        let mut slot = self.mailbox.lock();
        while slot.state == State::Starting {
            self.to_caller.wait(&mut slot);
        }
        match slot.state {
            State::Failed(e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Refuses new requests and tells the thread to return once the one in
    /// flight, if any, is done.
    pub(crate) fn stop(&self) {
        let mut slot = self.mailbox.lock();
        slot.state = State::Stopping;
        self.to_thread.notify_all();
    }

    /// Maps the firmware and the stub page, and reads the entry points.
    fn set_up(&self, mm: &MmUse<'_>) -> Result<EntryPoints> {
        self.map.populate(mm)?;
        let stubs = mm.map_stub_page(self.map.null_call_page())?;
        if self.mode() == Mode::Cpl3 {
            mm.map_cpl3_area()?;
        }
        EntryPoints::read(mm, &self.mm, &self.map, stubs)
    }

    /// The next job, waiting for one, with the fault to inject into a
    /// call; `None` once stopping and no caller is making a call of its
    /// own, whose firmware task the thread would end as it returns.
    fn next_request(&self) -> Option<(Job, Option<InjectedFault>)> {
        let mut slot = self.mailbox.lock();
        loop {
            if let Some(job) = slot.request.take() {
                let inject = match job {
                    Job::Call(_) => slot.inject.take(),
                    _ => None,
                };
                return Some((job, inject));
            }
            if slot.state == State::Stopping && !slot.busy {
                return None;
            }
            // Idle for as long as nobody calls: not an uninterruptible
            // sleep, which the hung-task detector would report. A kthread
            // takes no signals; the one wakeup kthread_stop() sends comes
            // after `stop()`, and the loop re-checks the state either way.
            // Freezable here and only here, so that suspend and hibernation
            // wait for a call the thread makes, which may be preempted, to
            // end. A cpl3 call its caller makes (`submit`) goes on while
            // the thread is frozen: its firmware task does not freeze, and
            // its caller sleeps in the kernel until it returns.
            let _stop_requested = self.to_thread.wait_interruptible_freezable(&mut slot);
        }
    }

    /// Serves calls until stopped. The thread enters the dedicated mm for
    /// each call only, and its CPU leaves it whenever the firmware is
    /// preempted: only a CPU running the firmware has it mapped.
    fn serve(&self, thread: &mut OnEfimmThread, entries: &EntryPoints) {
        while let Some((job, inject)) = self.next_request() {
            match job {
                Job::Call(call) => {
                    let name = call.name();
                    // Consumes `call`: the request is dropped before
                    // `complete`.
                    let result = entries.call(self, thread, call, inject);
                    self.complete(name, result);
                }
                Job::StartTask => {
                    let result = RuntimeLockGuard::lock()
                        .and_then(|lock| sys::start_cpl3_task(&lock, &self.mm, thread))
                        .map(|()| CallResult::default());
                    self.complete("the firmware task's start", result);
                }
                Job::Finish(abandoned) => self.finish(thread, abandoned),
            }
        }
    }

    /// Waits for the end of a cpl3 call whose caller was killed, cleans up
    /// after it as the caller would have, records its fault, if any, and
    /// ends its turn.
    fn finish(&self, thread: &mut OnEfimmThread, abandoned: Abandoned) {
        let Abandoned { call, name } = abandoned;
        let result = call.finish(thread);
        let mut slot = self.mailbox.lock();
        Self::record_fault(&mut slot, name, &result);
        slot.busy = false;
        self.to_caller.notify_all();
    }

    /// Hands the result of `name` to the caller, recording a fault.
    fn complete(&self, name: &'static str, result: Result<CallResult>) {
        let mut slot = self.mailbox.lock();
        Self::record_fault(&mut slot, name, &result);
        slot.result = Some(result);
        self.to_caller.notify_all();
    }

    /// Logs a firmware fault of `name`'s call: calls are refused until
    /// re-armed.
    fn record_fault(slot: &mut Slot, name: &'static str, result: &Result<CallResult>) {
        if let Ok(res) = result {
            if res.faulted {
                let fault = Fault {
                    service: name,
                    vector: res.fault_vector,
                    address: res.fault_address,
                    ip: res.fault_ip,
                    error_code: res.fault_error_code,
                };
                slot.faults.record(fault);
                pr_err!(
                    "{} took {} at ip {:#x} (address {:#x}, error code {:#x}): calls refused until re-armed\n",
                    fault.service,
                    fault.exception().name(),
                    fault.ip,
                    fault.address,
                    fault.error_code
                );
            }
        }
    }

    /// `fault` in debugfs: the fault log.
    pub(crate) fn write_faults(&self, f: &mut impl fmt::Write) -> fmt::Result {
        self.mailbox.lock().faults.write(f)
    }

    /// Takes calls again after a firmware fault, and the kernel's own path
    /// too if a fault efimm contained at CPL0 closed it (in this load of
    /// efimm or an earlier one). `EINTR` if a signal comes first.
    pub(crate) fn rearm(&self) -> Result {
        if sys::runtime_closed() {
            let lock = RuntimeLockGuard::lock()?;
            if sys::reopen_kernel_path(&lock).is_err() {
                pr_notice!("runtime services stay off: the kernel disabled them\n");
            }
        }
        if self.mailbox.lock().faults.rearm() {
            pr_info!("re-armed after a firmware fault\n");
        }
        Ok(())
    }

    /// `lend_priority` in debugfs: whether callers lend their priority.
    pub(crate) fn lends_priority(&self) -> bool {
        self.mailbox.lock().lend
    }

    /// Lets callers lend their priority (the default), or not.
    pub(crate) fn set_lend_priority(&self, lend: bool) {
        let mut slot = self.mailbox.lock();
        slot.lend = lend;
        slot.lend();
    }

    /// Makes the next call fault in the firmware, or (`None`) not;
    /// `EINVAL` for a fault only the cpl3 mode can contain, in cpl0 mode.
    #[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
    pub(crate) fn inject(&self, fault: Option<InjectedFault>) -> Result {
        if fault.is_some_and(|f| !f.allowed_in(self.mode())) {
            return Err(EINVAL);
        }
        self.mailbox.lock().inject = fault;
        Ok(())
    }

    #[cfg_attr(not(CONFIG_FAULT_INJECTION_DEBUG_FS), allow(dead_code))]
    pub(crate) fn injected(&self) -> Option<InjectedFault> {
        self.mailbox.lock().inject
    }

    fn set_state(&self, state: State, entries: Option<EntryPoints>) {
        let mut slot = self.mailbox.lock();
        if slot.state == State::Starting {
            slot.state = state;
            slot.entries = entries;
        }
        self.to_caller.notify_all();
    }

    /// Runs `call` and waits for it: on the efimm thread, or at CPL3 from
    /// here, handed to the firmware's task without the thread in between
    /// (two task switches fewer); the thread only starts that task when
    /// there is none. Like the kernel's own path, waiting for the turn is
    /// interruptible (`EINTR`, nothing was sent). Waiting for the firmware
    /// is not at CPL0, where it may be writing into the caller's buffers
    /// until it returns; at CPL3, where it writes only its bounce area, a
    /// fatal signal ends the wait (`EINTR`) of a call that changes nothing
    /// the firmware stores and leaves the call to the thread, which keeps
    /// the turn until it ends. After a firmware fault,
    /// until re-armed: `EIO`. Returns the result and the caller's wall
    /// time, once the thread, if it made the call, has dropped `call`; or
    /// an error with `call` never sent and dropped here.
    ///
    /// From the moment it asks until it has its result, the caller lends
    /// its priority to whatever makes the calls (`crate::lend`), and to the
    /// caller whose turn it is (`sys::Turn`), which must run for it to get
    /// its own.
    fn submit(&self, call: Call) -> Result<(CallResult, u64)> {
        let prio = sys::current_priority();
        let mut slot = self.mailbox.lock();
        slot.waiting.add(prio);
        slot.lend();
        drop(slot);
        let turn = sys::Turn::take();
        let result = match turn {
            Ok(_) => self.take_turn(self.mailbox.lock(), call),
            Err(e) => Err(e),
        };
        let mut slot = self.mailbox.lock();
        slot.waiting.remove(prio);
        slot.lend();
        drop(slot);
        // Last, holding nothing else: the turn gives this caller its own
        // priority back.
        drop(turn);
        result
    }

    /// `submit` with the turn taken: waits for the thread to finish the
    /// call of a caller that was killed, if any, and makes the call.
    fn take_turn<'a>(
        &'a self,
        mut slot: sys::RtMutexGuard<'a, Slot>,
        call: Call,
    ) -> Result<(CallResult, u64)> {
        let name = call.name();
        loop {
            if slot.state != State::Ready {
                return Err(ENODEV);
            }
            if slot.faults.disarmed() {
                return Err(EIO);
            }
            // The kernel stopped calling the firmware (a fault on its own
            // path): so does efimm. Sealed off from kernel mode instead,
            // it still takes cpl3 calls, the only ones left.
            if !sys::runtime_services_enabled()
                && !(self.mode() == Mode::Cpl3 && sys::runtime_sealed())
            {
                return Err(ENODEV);
            }
            if !slot.busy {
                break;
            }
            if self.to_caller.wait_interruptible(&mut slot) {
                return Err(EINTR);
            }
        }
        slot.busy = true;
        let in_flight = COUNTERS.begin(PathId::Efimm);
        let t0 = Instant::<Monotonic>::now();
        let result = match (self.mode(), slot.entries) {
            (Mode::Cpl3, Some(entries)) => {
                let mut starts = 0;
                loop {
                    let inject = slot.inject.take();
                    // A task the thread just started has its own priority.
                    slot.lend();
                    drop(slot);
                    let result = entries.call_cpl3(self, &call, inject);
                    slot = self.mailbox.lock();
                    match result {
                        Ok(Direct::Done(res)) => {
                            let result = Ok(res);
                            Self::record_fault(&mut slot, name, &result);
                            break result;
                        }
                        Ok(Direct::Abandoned(abandoned)) => {
                            pr_notice!(
                                "{name}: caller killed; efimm's thread waits for the call\n"
                            );
                            slot.request = Some(Job::Finish(abandoned));
                            self.to_thread.notify_all();
                            return Err(EINTR);
                        }
                        Err(e) => {
                            // Nothing was called: a fault to inject waits
                            // for the call that is made.
                            if e == EAGAIN || e == EINTR {
                                slot.inject = slot.inject.or(inject);
                            }
                            // No firmware task, or it was killed before it
                            // took the call: the thread starts one.
                            if e != EAGAIN {
                                break Err(e);
                            }
                            if starts == 2 {
                                break Err(ECHILD);
                            }
                            starts += 1;
                            if let Err(e) = self.on_thread(&mut slot, Job::StartTask) {
                                break Err(e);
                            }
                        }
                    }
                }
            }
            _ => self.on_thread(&mut slot, Job::Call(call)),
        };
        slot.busy = false;
        // The next caller, if any, and a stopping thread, which waits for
        // the turn to end (`next_request`); a serving one sleeps on.
        self.to_caller.notify_all();
        if slot.state == State::Stopping {
            self.to_thread.notify_all();
        }
        drop(slot);
        let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0);
        drop(in_flight);
        let res = result?;
        if res.irq_flags_corrupted {
            COUNTERS.irq_flags_corrupted(PathId::Efimm);
            pr_err!("firmware corrupted the IRQ flags in {name}\n");
        }
        Ok((res, ns))
    }

    /// Hands `job` to the thread and waits for its result, not
    /// interruptibly, nor killably: a call's `RawRequest` must outlive the
    /// thread's use of it.
    fn on_thread(&self, slot: &mut sys::RtMutexGuard<'_, Slot>, job: Job) -> Result<CallResult> {
        slot.request = Some(job);
        self.to_thread.notify_all();
        loop {
            if let Some(result) = slot.result.take() {
                return result;
            }
            self.to_caller.wait(slot);
        }
    }
}

impl Path for Shared {
    fn call(&self, request: &Request<'_>) -> Result<EfiStatus> {
        // SAFETY: `submit` returns only once the `RawRequest` is dropped,
        // or no longer used: unsent; or after the thread, which waits for
        // the firmware, has consumed the `Call` holding it (`serve`): once
        // queued, the caller waits for the result without interruption,
        // and the thread takes a queued request before it honours
        // `Stopping` (`next_request`); or, at CPL3, after the caller's own
        // call, whose firmware reads only the bounce area the request was
        // copied into, and which the caller leaves to the thread, if
        // killed, without the request. `request`'s borrows outlive this
        // function.
        let raw = unsafe { request.erase() };
        let (res, ns) = self.submit(Call::Service(raw))?;
        let status = EfiStatus(res.status);
        COUNTERS.record(
            PathId::Efimm,
            request.service(),
            CallCost {
                ns,
                error: status.is_error(),
                preempt_off_ns: res.preempt_off_ns,
                switched_out: res.switched_out.into(),
                scrubbed_pages: res.scrubbed_pages.into(),
            },
        );
        Ok(status)
    }

    /// Not in `counters`, which count services; `bench` reports it.
    fn own_call(&self, f: OwnFunction) -> Result<OwnReturn> {
        let (res, _) = self.submit(Call::Own(f))?;
        Ok(OwnReturn {
            status: EfiStatus(res.status),
            switched_out: res.switched_out,
        })
    }
}

impl ThreadMain for Shared {
    fn run(&self, thread: &mut OnEfimmThread) {
        // A cpl3 mm is a user one: its top level keeps the user bit.
        if self.mode() == Mode::Cpl0 {
            if let Err(e) = self.map.make_top_level_kernel_only(&self.mm) {
                self.set_state(State::Failed(e), None);
                return;
            }
        }
        let entries = self.set_up(&self.mm.enter(thread));
        match entries {
            Ok(entries) => {
                self.set_state(State::Ready, Some(entries));
                self.serve(thread, &entries);
                // Its child: reaped by this thread, before it goes.
                sys::end_cpl3_task(&self.mm, thread);
            }
            Err(e) => self.set_state(State::Failed(e), None),
        }
    }
}

/// The `i`th little-endian 64-bit word of `bytes`.
fn le_word(bytes: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
    u64::from_le_bytes(b)
}

/// The runtime services' entry points, read from the firmware's table
/// inside the dedicated mm, each checked to be executable there, and the
/// null call.
#[derive(Clone, Copy)]
struct EntryPoints {
    services: [Option<FirmwareFn>; Service::ALL.len()],
    stubs: StubPage,
}

impl EntryPoints {
    /// Reads the table with the uaccess helpers, inside the mm (`_in_mm`).
    fn read(_in_mm: &MmUse<'_>, mm: &OwnedMm, map: &RuntimeMap, stubs: StubPage) -> Result<Self> {
        let table = sys::runtime_table();
        // The table is only mapped in the dedicated mm, at a lower-half
        // address: read it with the uaccess helpers, which fault cleanly.
        let read = |raw: &mut [u8]| {
            UserSlice::new(UserPtr::from_addr(table as usize), raw.len())
                .reader()
                .read_slice(raw)
                .inspect_err(|_| pr_err!("cannot read the runtime services table at {table:#x}\n"))
        };
        let mut header = [0u8; TABLE_HEADER_BYTES];
        read(&mut header)?;
        if le_word(&header, 0) != RUNTIME_SERVICES_SIGNATURE {
            pr_err!("no runtime services table at {table:#x}\n");
            return Err(ENODEV);
        }
        // Revision in the low half of word 1, the table's size in the high.
        let header_size = (le_word(&header, 1) >> 32) as u32;
        if (header_size as usize) < TABLE_HEADER_BYTES {
            pr_err!("runtime services table at {table:#x} has size {header_size}\n");
            return Err(ENODEV);
        }
        // Only as much as the table has: an EFI 1.10 table may end a page.
        const WORDS: usize = TABLE_HEADER_BYTES / 8 + Service::TABLE_SLOTS;
        let mut raw = [0u8; WORDS * 8];
        let len = raw.len().min(header_size as usize);
        read(&mut raw[..len])?;
        let mut entries = [None; Service::ALL.len()];
        for service in Service::ALL {
            // A slot past the table's end is not the service's: EOPNOTSUPP.
            if !service.in_table(header_size) {
                continue;
            }
            let addr = le_word(&raw, TABLE_HEADER_BYTES / 8 + service.slot());
            if addr == 0 {
                continue;
            }
            // In the firmware's runtime code, and mapped so in the mm.
            let entry = map
                .is_executable(addr)
                .then(|| FirmwareFn::entry(mm, addr))
                .flatten();
            let Some(f) = entry else {
                pr_err!(
                    "{} entry point {addr:#x} is not in executable runtime code\n",
                    service.name()
                );
                return Err(ENODEV);
            };
            entries[service.index()] = Some(f);
        }
        Ok(EntryPoints {
            services: entries,
            stubs,
        })
    }

    /// Makes `call`, which is dropped on return, in the mode of `shared`,
    /// on the efimm thread.
    fn call(
        &self,
        shared: &Shared,
        thread: &mut OnEfimmThread,
        call: Call,
        inject: Option<InjectedFault>,
    ) -> Result<CallResult> {
        let mm = &shared.mm;
        let none = FirmwareArgs::none();
        let f = self.target(shared, &call, inject)?;
        let args = match &call {
            Call::Service(r) => r.args(),
            Call::Own(_) => &none,
        };
        let lock = RuntimeLockGuard::lock()?;
        match mm.mode() {
            Mode::Cpl0 => {
                // Checked again under the lock: the kernel may have
                // disabled them since the caller looked.
                if !sys::runtime_services_enabled() {
                    return Err(ENODEV);
                }
                let res = f.call(&lock, mm, thread, args);
                // The firmware may have stopped halfway through an update
                // of its own state: the kernel's path stays out of it too.
                if res.faulted {
                    sys::close_kernel_path(&lock);
                }
                Ok(res)
            }
            // Its callers make their calls themselves (`submit`).
            Mode::Cpl3 => Err(EINVAL),
        }
    }

    /// Makes the cpl3 call `call` from its caller, handed to the firmware's
    /// task directly; `EAGAIN`, with nothing called, if there is no task:
    /// only the thread starts one.
    fn call_cpl3(
        &self,
        shared: &Shared,
        call: &Call,
        inject: Option<InjectedFault>,
    ) -> Result<Direct> {
        let f = self.target(shared, call, inject)?;
        let lock = RuntimeLockGuard::lock()?;
        let (mm, timeout_ns) = (&shared.mm, shared.cpl3_timeout_ns);
        let ended = match call {
            Call::Own(_) => f.call_cpl3(lock, mm, &Cpl3Args::none(), timeout_ns),
            // The firmware at CPL3 cannot reach the caller's buffers.
            Call::Service(r) => f.call_bounced(lock, mm, r, timeout_ns),
        }?;
        Ok(match ended {
            Cpl3Call::Done(res) => Direct::Done(res),
            Cpl3Call::Abandoned(abandoned) => Direct::Abandoned(Abandoned {
                call: abandoned,
                name: call.name(),
            }),
        })
    }

    /// The function `call` enters: its service's, one of efimm's own, or
    /// the injected fault's.
    fn target(
        &self,
        shared: &Shared,
        call: &Call,
        inject: Option<InjectedFault>,
    ) -> Result<FirmwareFn> {
        if let Some(kind) = inject {
            return kind
                .target(&shared.mm, &shared.map, &self.stubs)
                .ok_or(ENXIO);
        }
        match call {
            Call::Service(r) => self.services[r.service().index()].ok_or(sys::eopnotsupp()),
            Call::Own(f) => Ok(self.stubs.own(*f)),
        }
    }
}
