// SPDX-License-Identifier: GPL-2.0

//! `bench`: run one service many times through one path and report what
//! each call cost.
//!
//! Every service but ResetSystem can be run, each with arguments that leave
//! the system as it was: SetVariable rewrites (then deletes) a scratch
//! variable, SetTime writes back the time read when the run began (the RTC
//! loses the run's duration), SetWakeupTime disables the alarm, and the
//! capsule services get an empty capsule that firmware must refuse.

use crate::counters::{
    PathId,
    TlbSnapshot,
    COUNTERS, //
};
use crate::efi::{
    guid::Guid,
    service::Service,
    status::EfiStatus,
    time::EfiTime,
    time::EfiTimeCap,
    ucs2, //
};
use crate::path::Path;
use crate::request::{
    Attributes,
    CapsuleHeader,
    Name,
    Request, //
};
use crate::sys::{
    self,
    OwnFunction, //
};
use core::fmt::{
    self,
    Write, //
};
use kernel::{
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    }, //
};

/// Most calls one bench run makes.
pub(crate) const MAX_COUNT: u32 = 100_000;

/// Vendor GUID of the scratch variable the SetVariable bench writes.
const BENCH_VENDOR: &str = "4e6f8b4a-ef1c-4d2e-9a3b-6566696d6d00";
const BENCH_VARIABLE: &str = "EfimmBench";
/// After ExitBootServices() firmware only accepts non-volatile writes, so
/// the SetVariable bench writes the flash store (size its count to the
/// store).
const ATTR_NV_BS_RT: Attributes = Attributes::NON_VOLATILE
    .union(Attributes::BOOTSERVICE_ACCESS)
    .union(Attributes::RUNTIME_ACCESS);

/// What a bench run calls: a service, or one of efimm's own functions
/// (`null`, which returns at once, to measure the path alone, and `spin`,
/// which first keeps its CPU busy like a long firmware call).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Service(Service),
    Own(OwnFunction),
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Service(s) => s.name(),
            Target::Own(f) => f.name(),
        }
    }
}

/// What a `bench` write asks for: `<service|null> <count> <path>`.
#[derive(Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) target: Target,
    pub(crate) count: u32,
    pub(crate) path: PathId,
}

impl Spec {
    pub(crate) fn parse(text: &str) -> Result<Spec> {
        let mut words = text.split_ascii_whitespace();
        let (Some(service), Some(count), Some(path), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(EINVAL);
        };
        let target = match OwnFunction::from_name(service) {
            Some(f) => Target::Own(f),
            None => Target::Service(Service::from_name(service).ok_or(EINVAL)?),
        };
        if target == Target::Service(Service::ResetSystem) {
            // Not something to repeat: see the `reset` file.
            return Err(sys::eopnotsupp());
        }
        let count: u32 = count.parse().map_err(|_| EINVAL)?;
        if count == 0 || count > MAX_COUNT {
            return Err(ERANGE);
        }
        let path = PathId::from_name(path).ok_or(EINVAL)?;
        if matches!(target, Target::Own(_)) && path != PathId::Efimm {
            // The kernel's path has no way to call a function of ours.
            return Err(sys::eopnotsupp());
        }
        Ok(Spec {
            target,
            count,
            path,
        })
    }
}

/// The result of one bench run, one `key value` per line.
pub(crate) struct Report {
    spec: Spec,
    errors: u32,
    last_error: EfiStatus,
    min_ns: u64,
    median_ns: u64,
    p99_ns: u64,
    max_ns: u64,
    total_ns: u64,
    tlb: TlbSnapshot,
    /// For efimm's own functions: how often their calls were switched out
    /// (a service's are in its counters).
    switched_out: Option<u64>,
    /// Every call's time, in call order, for tools that aggregate runs.
    samples: KVVec<u64>,
}

impl Report {
    pub(crate) fn write(&self, f: &mut impl Write) -> fmt::Result {
        let s = &self.spec;
        writeln!(f, "service {}", s.target.name())?;
        writeln!(f, "path {}", s.path.name())?;
        writeln!(f, "calls {}", s.count)?;
        writeln!(f, "errors {}", self.errors)?;
        writeln!(f, "last_error {}", self.last_error)?;
        writeln!(f, "total_ns {}", self.total_ns)?;
        writeln!(f, "min_ns {}", self.min_ns)?;
        writeln!(f, "median_ns {}", self.median_ns)?;
        writeln!(f, "p99_ns {}", self.p99_ns)?;
        writeln!(f, "max_ns {}", self.max_ns)?;
        self.tlb.write(f)?;
        if let Some(n) = self.switched_out {
            writeln!(f, "switched_out {n}")?;
        }
        f.write_str("samples_ns")?;
        for s in self.samples.iter() {
            write!(f, " {s}")?;
        }
        writeln!(f)
    }
}

/// Buffers one service's calls reuse from call to call.
struct Workload {
    name: [u16; ucs2::MAX_NAME_UNITS],
    vendor: Guid,
    data: [u8; 1024],
    iteration: u64,
    /// The time SetTime writes back: the RTC as it was when the run began.
    start_time: EfiTime,
    /// An empty capsule with no GUID, which firmware must refuse.
    capsule: CapsuleHeader,
}

impl Workload {
    fn new(service: Service) -> Result<KBox<Self>> {
        let mut w = KBox::new(
            Workload {
                name: [0; ucs2::MAX_NAME_UNITS],
                vendor: Guid::GLOBAL_VARIABLE,
                data: [0; 1024],
                iteration: 0,
                start_time: EfiTime::default(),
                capsule: CapsuleHeader::empty(),
            },
            GFP_KERNEL,
        )?;
        match service {
            Service::GetVariable => {
                ucs2::encode_ascii("BootOrder", &mut w.name).map_err(|_| EINVAL)?;
            }
            Service::SetVariable => {
                ucs2::encode_ascii(BENCH_VARIABLE, &mut w.name).map_err(|_| EINVAL)?;
                w.vendor = Guid::parse(BENCH_VENDOR).ok_or(EINVAL)?;
            }
            _ => {}
        }
        Ok(w)
    }

    /// What a run needs before its first call.
    fn prepare(&mut self, service: Service, path: &dyn Path) -> Result {
        if service == Service::SetTime {
            let status = path.call(&Request::get_time(&mut self.start_time, None))?;
            if status.is_error() {
                return Err(EIO);
            }
        }
        Ok(())
    }

    /// One call; `Ok(None)` when the status is the expected end of an
    /// enumeration rather than a failure.
    fn call_once(&mut self, service: Service, path: &dyn Path) -> Result<Option<EfiStatus>> {
        let status = match service {
            Service::GetTime => {
                let (mut time, mut cap) = (EfiTime::default(), EfiTimeCap::default());
                path.call(&Request::get_time(&mut time, Some(&mut cap)))?
            }
            Service::GetWakeupTime => {
                let (mut enabled, mut pending, mut time) = (0u8, 0u8, EfiTime::default());
                path.call(&Request::get_wakeup_time(
                    &mut enabled,
                    &mut pending,
                    &mut time,
                ))?
            }
            Service::GetVariable => {
                let name = Name::new(&self.name).map_err(|_| EINVAL)?;
                let (mut attr, mut size) = (Attributes::default(), 0u64);
                path.call(&Request::get_variable(
                    name,
                    &self.vendor,
                    Some(&mut attr),
                    &mut size,
                    &mut self.data,
                ))?
            }
            Service::GetNextVariableName => {
                let mut size = 0u64;
                let req = Request::get_next_variable(&mut self.name, &mut size, &mut self.vendor)
                    .map_err(|_| EINVAL)?;
                let status = path.call(&req)?;
                if status == EfiStatus::NOT_FOUND {
                    // End of the enumeration: start over.
                    self.name[0] = 0;
                    return Ok(None);
                }
                status
            }
            Service::SetVariable => {
                self.iteration += 1;
                let value = self.iteration.to_le_bytes();
                let name = Name::new(&self.name).map_err(|_| EINVAL)?;
                path.call(&Request::set_variable(
                    name,
                    &self.vendor,
                    ATTR_NV_BS_RT,
                    &value,
                ))?
            }
            Service::QueryVariableInfo => {
                let mut out = [0u64; 3];
                path.call(&Request::query_variable_info(ATTR_NV_BS_RT, &mut out))?
            }
            Service::GetNextHighMonotonicCount => {
                let mut count = 0u32;
                path.call(&Request::get_next_high_mono_count(&mut count))?
            }
            Service::SetTime => path.call(&Request::set_time(&self.start_time))?,
            Service::SetWakeupTime => path.call(&Request::set_wakeup_time(false, None))?,
            Service::QueryCapsuleCapabilities => {
                let capsules = [&self.capsule];
                let (mut max_size, mut reset_type) = (0u64, 0u32);
                path.call(&Request::query_capsule_caps(
                    &capsules,
                    &mut max_size,
                    &mut reset_type,
                ))?
            }
            Service::UpdateCapsule => path.call(&Request::update_capsule(&[&self.capsule]))?,
            Service::ResetSystem => return Err(sys::eopnotsupp()),
        };
        Ok(Some(status))
    }

    /// Deletes what the run created.
    fn clean_up(&self, service: Service, path: &dyn Path) {
        if service == Service::SetVariable {
            if let Ok(name) = Name::new(&self.name) {
                let _ = path.call(&Request::set_variable(
                    name,
                    &self.vendor,
                    ATTR_NV_BS_RT,
                    &[],
                ));
            }
        }
    }
}

/// Runs `spec` through `path`.
pub(crate) fn run(spec: Spec, path: &dyn Path) -> Result<Report> {
    let mut samples = KVVec::with_capacity(spec.count as usize, GFP_KERNEL)?;
    /// What each call of the run does.
    enum Work {
        Service(Service, KBox<Workload>),
        Own(OwnFunction),
    }
    let mut work = match spec.target {
        Target::Service(service) => {
            let mut w = Workload::new(service)?;
            w.prepare(service, path)?;
            Work::Service(service, w)
        }
        Target::Own(f) => Work::Own(f),
    };
    let clean_up = |work: &Work| {
        if let Work::Service(service, w) = work {
            w.clean_up(*service, path);
        }
    };
    let (mut errors, mut last_error) = (0, EfiStatus::SUCCESS);
    let mut switched_out = matches!(work, Work::Own(_)).then_some(0u64);
    let tlb_before = COUNTERS.tlb_snapshot(spec.path);
    for _ in 0..spec.count {
        let t0 = Instant::<Monotonic>::now();
        let status = match &mut work {
            Work::Service(service, w) => w.call_once(*service, path),
            Work::Own(f) => path.own_call(*f).map(|r| {
                if let Some(n) = switched_out.as_mut() {
                    *n += u64::from(r.switched_out);
                }
                Some(r.status)
            }),
        };
        samples.push(
            u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0),
            GFP_KERNEL,
        )?;
        match status {
            Ok(Some(s)) if s.is_error() => {
                errors += 1;
                last_error = s;
            }
            Ok(_) => {}
            Err(e) => {
                clean_up(&work);
                return Err(e);
            }
        }
    }
    let tlb = COUNTERS.tlb_snapshot(spec.path).since(&tlb_before);
    clean_up(&work);
    let total_ns = samples.iter().sum();
    let mut sorted = KVVec::with_capacity(samples.len(), GFP_KERNEL)?;
    sorted.extend_from_slice(&samples, GFP_KERNEL)?;
    crate::sort::sort(&mut sorted);
    let at = |q: usize| sorted[(sorted.len() - 1) * q / 100];
    Ok(Report {
        spec,
        errors,
        last_error,
        min_ns: at(0),
        median_ns: at(50),
        p99_ns: at(99),
        max_ns: at(100),
        total_ns,
        tlb,
        switched_out,
        samples,
    })
}
