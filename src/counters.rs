// SPDX-License-Identifier: GPL-2.0

//! What each firmware call costs, per path and service, and the TLB events
//! seen while calls were in flight.

use crate::efi::service::Service;
use crate::sys::{
    self,
    TlbSink, //
};
use core::fmt::{
    self,
    Write, //
};
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};

/// Who entered the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathId {
    /// efimm's thread in the dedicated mm.
    Efimm = 0,
    /// The kernel's own wrappers (`efi_mm`), driven by efimm to compare.
    Kernel = 1,
}

impl PathId {
    pub(crate) const ALL: [PathId; 2] = [PathId::Efimm, PathId::Kernel];

    pub(crate) fn name(self) -> &'static str {
        match self {
            PathId::Efimm => "efimm",
            PathId::Kernel => "kernel",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<PathId> {
        PathId::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// `enum tlb_flush_reason`, in order.
const TLB_REASONS: [&str; 6] = [
    "task_switch",
    "remote_shootdown",
    "local_shootdown",
    "local_mm_shootdown",
    "remote_send_ipi",
    "remote_wrong_cpu",
];
const TLB_FLUSH_ON_TASK_SWITCH: usize = 0;
const TLB_REMOTE_SHOOTDOWN: usize = 1;
/// `TLB_FLUSH_ALL` in the tracepoint's `pages`.
const TLB_FLUSH_ALL: u64 = u64::MAX;

const fn zeros<const N: usize>() -> [Atomic<u64>; N] {
    [const { Atomic::new(0) }; N]
}

/// What one finished call cost.
pub(crate) struct CallCost {
    /// Its length, as its caller saw it.
    pub(crate) ns: u64,
    /// The firmware returned an error status.
    pub(crate) error: bool,
    /// The longest stretch the path ran with preemption disabled.
    pub(crate) preempt_off_ns: u64,
    /// Times the firmware was switched out (efimm's path only).
    pub(crate) switched_out: u64,
    /// Pages of the cpl3 stack and bounce area the firmware wrote, which
    /// efimm zeroed after the call (cpl3 only).
    pub(crate) scrubbed_pages: u64,
}

struct ServiceStats {
    calls: Atomic<u64>,
    errors: Atomic<u64>,
    total_ns: Atomic<u64>,
    min_ns: Atomic<u64>,
    max_ns: Atomic<u64>,
    max_preempt_off_ns: Atomic<u64>,
    /// Times the firmware was switched out in the middle of a call.
    switched_out: Atomic<u64>,
    /// Pages zeroed after cpl3 calls because the firmware wrote them.
    scrubbed_pages: Atomic<u64>,
    /// Atomic-context calls handed to the kernel's own path.
    handoffs: Atomic<u64>,
}

impl ServiceStats {
    const fn new() -> Self {
        ServiceStats {
            calls: Atomic::new(0),
            errors: Atomic::new(0),
            total_ns: Atomic::new(0),
            min_ns: Atomic::new(u64::MAX),
            max_ns: Atomic::new(0),
            max_preempt_off_ns: Atomic::new(0),
            switched_out: Atomic::new(0),
            scrubbed_pages: Atomic::new(0),
            handoffs: Atomic::new(0),
        }
    }

    fn reset(&self) {
        for a in [
            &self.calls,
            &self.errors,
            &self.total_ns,
            &self.max_ns,
            &self.max_preempt_off_ns,
            &self.switched_out,
            &self.scrubbed_pages,
            &self.handoffs,
        ] {
            a.store(0, Relaxed);
        }
        self.min_ns.store(u64::MAX, Relaxed);
    }
}

struct TlbStats {
    /// Flushes (pages != 0) by tracepoint reason.
    flushes: [Atomic<u64>; TLB_REASONS.len()],
    full_flushes: Atomic<u64>,
    global_flushes: Atomic<u64>,
    remote_shootdowns: Atomic<u64>,
    /// mm switches: every one loads CR3, with or without a flush.
    cr3_loads: Atomic<u64>,
}

impl TlbStats {
    const fn new() -> Self {
        TlbStats {
            flushes: zeros(),
            full_flushes: Atomic::new(0),
            global_flushes: Atomic::new(0),
            remote_shootdowns: Atomic::new(0),
            cr3_loads: Atomic::new(0),
        }
    }

    fn reset(&self) {
        for a in self.flushes.iter() {
            a.store(0, Relaxed);
        }
        for a in [
            &self.full_flushes,
            &self.global_flushes,
            &self.remote_shootdowns,
            &self.cr3_loads,
        ] {
            a.store(0, Relaxed);
        }
    }
}

struct PathStats {
    services: [ServiceStats; Service::ALL.len()],
    tlb: TlbStats,
    irq_flags_corrupted: Atomic<u64>,
}

impl PathStats {
    const fn new() -> Self {
        PathStats {
            services: [const { ServiceStats::new() }; Service::ALL.len()],
            tlb: TlbStats::new(),
            irq_flags_corrupted: Atomic::new(0),
        }
    }
}

/// The TLB events of one path at one moment, to difference.
#[derive(Clone, Copy, Default)]
pub(crate) struct TlbSnapshot {
    flushes: [u64; TLB_REASONS.len()],
    full_flushes: u64,
    global_flushes: u64,
    remote_shootdowns: u64,
    cr3_loads: u64,
}

impl TlbSnapshot {
    /// Events between `earlier` and `self`.
    pub(crate) fn since(&self, earlier: &TlbSnapshot) -> TlbSnapshot {
        let mut d = TlbSnapshot::default();
        for (i, v) in d.flushes.iter_mut().enumerate() {
            *v = self.flushes[i].wrapping_sub(earlier.flushes[i]);
        }
        d.full_flushes = self.full_flushes.wrapping_sub(earlier.full_flushes);
        d.global_flushes = self.global_flushes.wrapping_sub(earlier.global_flushes);
        d.remote_shootdowns = self
            .remote_shootdowns
            .wrapping_sub(earlier.remote_shootdowns);
        d.cr3_loads = self.cr3_loads.wrapping_sub(earlier.cr3_loads);
        d
    }

    /// `tlb.<event> <value>` lines.
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        for (reason, v) in TLB_REASONS.iter().zip(self.flushes.iter()) {
            writeln!(f, "tlb.flush_{reason} {v}")?;
        }
        writeln!(f, "tlb.full_flushes {}", self.full_flushes)?;
        writeln!(f, "tlb.global_flushes {}", self.global_flushes)?;
        writeln!(f, "tlb.remote_shootdowns {}", self.remote_shootdowns)?;
        writeln!(f, "tlb.cr3_loads {}", self.cr3_loads)
    }
}

/// All counters. One static instance: the tracepoint probe needs it.
pub(crate) struct Counters {
    paths: [PathStats; PathId::ALL.len()],
    /// Calls in flight per [`PathId`].
    active: [Atomic<u32>; PathId::ALL.len()],
}

pub(crate) static COUNTERS: Counters = Counters {
    paths: [PathStats::new(), PathStats::new()],
    active: [Atomic::new(0), Atomic::new(0)],
};

fn store_max(a: &Atomic<u64>, v: u64) {
    let mut cur = a.load(Relaxed);
    while v > cur {
        match a.cmpxchg(cur, v, Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

fn store_min(a: &Atomic<u64>, v: u64) {
    let mut cur = a.load(Relaxed);
    while v < cur {
        match a.cmpxchg(cur, v, Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

/// Marks a call of `path` in flight: TLB events count for it until drop.
pub(crate) struct InFlight(PathId);

impl Drop for InFlight {
    fn drop(&mut self) {
        COUNTERS.active[self.0 as usize].fetch_sub(1, Relaxed);
    }
}

impl Counters {
    pub(crate) fn begin(&self, path: PathId) -> InFlight {
        self.active[path as usize].add(1, Relaxed);
        InFlight(path)
    }

    /// Accounts one finished call.
    pub(crate) fn record(&self, path: PathId, service: Service, cost: CallCost) {
        let s = &self.paths[path as usize].services[service.index()];
        s.calls.add(1, Relaxed);
        if cost.error {
            s.errors.add(1, Relaxed);
        }
        s.total_ns.add(cost.ns, Relaxed);
        store_min(&s.min_ns, cost.ns);
        store_max(&s.max_ns, cost.ns);
        store_max(&s.max_preempt_off_ns, cost.preempt_off_ns);
        s.switched_out.add(cost.switched_out, Relaxed);
        s.scrubbed_pages.add(cost.scrubbed_pages, Relaxed);
    }

    pub(crate) fn tlb_snapshot(&self, path: PathId) -> TlbSnapshot {
        let t = &self.paths[path as usize].tlb;
        let mut s = TlbSnapshot {
            full_flushes: t.full_flushes.load(Relaxed),
            global_flushes: t.global_flushes.load(Relaxed),
            remote_shootdowns: t.remote_shootdowns.load(Relaxed),
            cr3_loads: t.cr3_loads.load(Relaxed),
            ..TlbSnapshot::default()
        };
        for (v, a) in s.flushes.iter_mut().zip(t.flushes.iter()) {
            *v = a.load(Relaxed);
        }
        s
    }

    pub(crate) fn handoff(&self, service: Service) {
        self.paths[PathId::Efimm as usize].services[service.index()]
            .handoffs
            .add(1, Relaxed);
    }

    pub(crate) fn irq_flags_corrupted(&self, path: PathId) {
        self.paths[path as usize]
            .irq_flags_corrupted
            .add(1, Relaxed);
    }

    fn active_paths(&self) -> impl Iterator<Item = PathId> + '_ {
        PathId::ALL
            .into_iter()
            .filter(|&p| self.active[p as usize].load(Relaxed) > 0)
    }

    pub(crate) fn reset(&self) {
        for p in self.paths.iter() {
            p.services.iter().for_each(ServiceStats::reset);
            p.tlb.reset();
            p.irq_flags_corrupted.store(0, Relaxed);
        }
        sys::reset_kernel_firmware_max();
    }

    /// `<path>.<service>.<metric> <value>` and `<path>.tlb.<event> <value>`
    /// lines, services with no calls left out, then the longest
    /// preemption-off stretch of any kernel-path call the probes saw, and
    /// `firmware_overlaps` (since load, not reset).
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        for path in PathId::ALL {
            let p = &self.paths[path as usize];
            let name = path.name();
            for service in Service::ALL {
                let s = &p.services[service.index()];
                let calls = s.calls.load(Relaxed);
                let handoffs = s.handoffs.load(Relaxed);
                if calls == 0 && handoffs == 0 {
                    continue;
                }
                let svc = service.name();
                let min = if calls == 0 {
                    0
                } else {
                    s.min_ns.load(Relaxed)
                };
                for (metric, v) in [
                    ("calls", calls),
                    ("errors", s.errors.load(Relaxed)),
                    ("total_ns", s.total_ns.load(Relaxed)),
                    ("min_ns", min),
                    ("max_ns", s.max_ns.load(Relaxed)),
                    ("max_preempt_off_ns", s.max_preempt_off_ns.load(Relaxed)),
                    ("switched_out", s.switched_out.load(Relaxed)),
                    ("scrubbed_pages", s.scrubbed_pages.load(Relaxed)),
                    ("atomic_handoffs", handoffs),
                ] {
                    writeln!(f, "{name}.{svc}.{metric} {v}")?;
                }
            }
            let mut tlb = Prefixed {
                f: &mut *f,
                prefix: name,
                at_line_start: true,
            };
            self.tlb_snapshot(path).write(&mut tlb)?;
            writeln!(
                f,
                "{name}.irq_flags_corrupted {}",
                p.irq_flags_corrupted.load(Relaxed)
            )?;
        }
        let watched = sys::kernel_firmware_calls();
        writeln!(f, "kernel.watched_calls {}", watched.calls)?;
        writeln!(
            f,
            "kernel.watched_max_preempt_off_ns {}",
            watched.max_preempt_off_ns
        )?;
        writeln!(f, "firmware_overlaps {}", sys::firmware_overlaps())
    }
}

impl TlbSink for Counters {
    /// The `tlb_flush` tracepoint fired (any CPU).
    fn tlb_flush(&self, reason: usize, pages: u64) {
        if reason >= TLB_REASONS.len() {
            return;
        }
        for path in self.active_paths() {
            let t = &self.paths[path as usize].tlb;
            if reason == TLB_FLUSH_ON_TASK_SWITCH {
                t.cr3_loads.add(1, Relaxed);
            }
            if pages == 0 {
                continue;
            }
            t.flushes[reason].add(1, Relaxed);
            if pages == TLB_FLUSH_ALL {
                t.full_flushes.add(1, Relaxed);
            }
            if reason == TLB_REMOTE_SHOOTDOWN {
                t.remote_shootdowns.add(1, Relaxed);
            }
        }
    }

    /// A flush of global TLB entries was requested (any CPU).
    fn global_flush(&self) {
        for path in self.active_paths() {
            self.paths[path as usize].tlb.global_flushes.add(1, Relaxed);
        }
    }
}

/// Writes through to `f`, starting every line with `<prefix>.`.
struct Prefixed<'a, W: Write> {
    f: &'a mut W,
    prefix: &'a str,
    at_line_start: bool,
}

impl<W: Write> Write for Prefixed<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for piece in s.split_inclusive('\n') {
            if self.at_line_start {
                write!(self.f, "{}.", self.prefix)?;
            }
            self.f.write_str(piece)?;
            self.at_line_start = piece.ends_with('\n');
        }
        Ok(())
    }
}
