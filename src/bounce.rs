// SPDX-License-Identifier: GPL-2.0

//! The cpl3 mode's bounce plan: where each buffer a service reads or writes
//! goes in the bounce area, the one place of the cpl3 mm the firmware may
//! write and the kernel reads back.
//!
//! The firmware at CPL3 cannot reach a caller's buffers. Before the call,
//! what it reads is copied into the bounce area and its arguments point
//! there; after, what it wrote is copied back. Every length is read from
//! the caller once, here, and bounded by the caller's own buffer and the
//! area; nothing the firmware leaves behind is used as a pointer, and a
//! length it leaves (a variable's size) only ever shortens a copy back.
//!
//! Pure logic, unit-tested on the host (`tests/host`).

use crate::efi::{
    service::Service,
    status::EfiStatus, //
};

/// Buffers start 8-byte aligned.
const ALIGN: usize = 8;

/// How long a buffer is.
#[derive(Clone, Copy)]
enum Len {
    Fixed(usize),
    /// The `u64` the caller's argument `i` points to (a size in and out).
    SizeAt(usize),
    /// Argument `i` itself.
    SizeArg(usize),
}

/// What an argument is.
#[derive(Clone, Copy)]
enum Arg {
    /// A number, passed as is.
    Value,
    /// A buffer the firmware reads.
    In(Len),
    /// A buffer the firmware writes.
    Out(Len),
    /// A buffer the firmware reads and writes.
    InOut(Len),
    /// A NUL-terminated UCS-2 variable name.
    Name,
    /// A buffer holding a variable name the firmware reads and replaces
    /// (GetNextVariableName): on success it must hold a NUL.
    NameInOut(Len),
}

const TIME: usize = 16;
const TIME_CAP: usize = 12;
const GUID: usize = 16;

/// The arguments of `service`, as the UEFI specification defines them;
/// `None` for the services that are not bounced: ResetSystem, which stays
/// on the kernel's path, and the capsule services, whose arrays of
/// pointers to scatter-gather lists efimm does not follow.
fn args_of(service: Service) -> Option<[Arg; 5]> {
    use Arg::{
        In,
        InOut,
        Name,
        Out,
        Value as v, //
    };
    use Len::{
        Fixed,
        SizeArg,
        SizeAt, //
    };
    Some(match service {
        Service::GetTime => [Out(Fixed(TIME)), Out(Fixed(TIME_CAP)), v, v, v],
        Service::SetTime => [In(Fixed(TIME)), v, v, v, v],
        Service::GetWakeupTime => [Out(Fixed(1)), Out(Fixed(1)), Out(Fixed(TIME)), v, v],
        Service::SetWakeupTime => [v, In(Fixed(TIME)), v, v, v],
        Service::GetVariable => [
            Name,
            In(Fixed(GUID)),
            Out(Fixed(4)),
            InOut(Fixed(8)),
            Out(SizeAt(3)),
        ],
        Service::GetNextVariableName => [
            InOut(Fixed(8)),
            Arg::NameInOut(SizeAt(0)),
            InOut(Fixed(GUID)),
            v,
            v,
        ],
        Service::SetVariable => [Name, In(Fixed(GUID)), v, v, In(SizeArg(3))],
        Service::QueryVariableInfo => [v, Out(Fixed(8)), Out(Fixed(8)), Out(Fixed(8)), v],
        Service::GetNextHighMonotonicCount => [Out(Fixed(4)), v, v, v, v],
        Service::ResetSystem | Service::UpdateCapsule | Service::QueryCapsuleCapabilities => {
            return None
        }
    })
}

/// Whether calls of `service` can be bounced, and so made at CPL3.
pub(crate) fn is_bounced(service: Service) -> bool {
    args_of(service).is_some()
}

/// Why a call cannot be bounced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BounceError {
    /// The service is not bounced (see `args_of`).
    NotBounced,
    /// What the firmware must read (a variable name, SetVariable's data)
    /// does not fit the area.
    TooLarge,
}

impl BounceError {
    /// What the call returns without reaching the firmware: for a request
    /// too large for the area, the status the UEFI specification gives a
    /// name or data larger than the firmware stores, as a firmware whose
    /// variables fit the area would (GetVariable: no such variable can
    /// exist; SetVariable: "DataSize exceeds the maximum allowed").
    pub(crate) fn status(self, service: Service) -> Option<EfiStatus> {
        match (self, service) {
            (BounceError::NotBounced, _) => None,
            (BounceError::TooLarge, Service::GetVariable) => Some(EfiStatus::NOT_FOUND),
            (BounceError::TooLarge, _) => Some(EfiStatus::INVALID_PARAMETER),
        }
    }
}

/// One buffer's trip through the bounce area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Copy {
    /// The caller's buffer (a kernel address).
    pub(crate) kernel: u64,
    /// Where it goes in the area, and how many bytes.
    pub(crate) offset: usize,
    pub(crate) len: usize,
    /// Copied in before the call: from `kernel`, or (`value`) a size read
    /// once, already bounded.
    pub(crate) copy_in: bool,
    pub(crate) value: Option<u64>,
    /// Copied back after the call.
    pub(crate) copy_out: bool,
    /// Copy back at most the `u64` the firmware left at this offset (a
    /// variable's size), never more than `len`.
    pub(crate) out_len_at: Option<usize>,
    /// A variable name: on success, a NUL within what is copied back.
    pub(crate) name: bool,
}

/// Every buffer of one call, and the arguments the firmware gets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) copies: [Option<Copy>; 5],
    /// The arguments, pointers replaced by addresses in the area.
    pub(crate) args: [u64; 5],
    /// Bytes of the area in use.
    pub(crate) used: usize,
    /// Bytes of the area: the largest size the firmware may ask for.
    pub(crate) capacity: usize,
}

/// What the plan needs of the caller's memory, each read once.
pub(crate) trait CallerMemory {
    /// The `u64` at the kernel address `addr`.
    fn read_u64(&self, addr: u64) -> u64;
    /// The length in bytes, NUL included, of the UCS-2 name at `addr`, if
    /// it ends within `max_units` units.
    fn name_bytes(&self, addr: u64, max_units: usize) -> Option<usize>;
}

/// Plans the call of `service` with the caller's `args` through an area of
/// `capacity` bytes that the firmware sees at `user_base`.
pub(crate) fn plan(
    service: Service,
    args: &[u64; 5],
    capacity: usize,
    user_base: u64,
    mem: &impl CallerMemory,
) -> Result<Plan, BounceError> {
    let kinds = args_of(service).ok_or(BounceError::NotBounced)?;
    let mut plan = Plan {
        copies: [None; 5],
        args: *args,
        used: 0,
        capacity,
    };
    // Sizes read once, bounded: argument `i`'s `u64`, where a `SizeAt(i)`
    // buffer takes its length from.
    let mut sizes = [None; 5];
    for (i, kind) in kinds.iter().enumerate() {
        let ptr = args[i];
        let (len, copy_in, copy_out) = match *kind {
            Arg::Value => continue,
            _ if ptr == 0 => {
                // NULL stays NULL: optional, or for the firmware to refuse.
                continue;
            }
            // Read up to what the area holds: a longer name cannot be
            // passed, terminated or not.
            Arg::Name => {
                let len = mem
                    .name_bytes(ptr, capacity / 2)
                    .ok_or(BounceError::TooLarge)?;
                (len, true, false)
            }
            Arg::In(len) => (resolve(len, args, &sizes), true, false),
            Arg::Out(len) => (resolve(len, args, &sizes), false, true),
            Arg::InOut(len) | Arg::NameInOut(len) => (resolve(len, args, &sizes), true, true),
        };
        let offset = plan.used.next_multiple_of(ALIGN);
        let room = capacity.saturating_sub(offset);
        let (len, value) = match *kind {
            // A size the firmware may rewrite: read once, and no larger than
            // what fits after it with the fixed buffers that follow (the
            // buffer it sizes comes next).
            Arg::InOut(Len::Fixed(8)) => {
                let size = mem.read_u64(ptr);
                let fixed_after: usize = kinds[i + 1..]
                    .iter()
                    .zip(&args[i + 1..])
                    .filter(|(_, &p)| p != 0)
                    .map(|(k, _)| match k {
                        Arg::In(Len::Fixed(n))
                        | Arg::Out(Len::Fixed(n))
                        | Arg::InOut(Len::Fixed(n)) => n + ALIGN,
                        _ => 0,
                    })
                    .sum();
                let fits = room.saturating_sub(8 + ALIGN + fixed_after) as u64;
                let size = size.min(fits);
                sizes[i] = Some(size as usize);
                (8, Some(size))
            }
            _ => (len, None),
        };
        if len > room {
            // A buffer the firmware only writes may shrink to what is left:
            // it then asks for more (EFI_BUFFER_TOO_SMALL), which no
            // variable of a firmware whose largest fits the area needs.
            if copy_in {
                return Err(BounceError::TooLarge);
            }
        }
        let len = len.min(room);
        let out_len_at = match *kind {
            Arg::Out(Len::SizeAt(j))
            | Arg::InOut(Len::SizeAt(j))
            | Arg::NameInOut(Len::SizeAt(j)) => plan.copies[j].map(|c| c.offset),
            _ => None,
        };
        plan.copies[i] = Some(Copy {
            kernel: ptr,
            offset,
            len,
            copy_in,
            value,
            copy_out,
            out_len_at,
            name: matches!(kind, Arg::NameInOut(_)),
        });
        plan.args[i] = user_base + offset as u64;
        plan.used = offset + len;
    }
    Ok(plan)
}

/// The length `len` names, from what `plan` has read so far.
fn resolve(len: Len, args: &[u64; 5], sizes: &[Option<usize>; 5]) -> usize {
    match len {
        Len::Fixed(n) => n,
        Len::SizeAt(i) => sizes[i].unwrap_or(0),
        Len::SizeArg(i) => usize::try_from(args[i]).unwrap_or(usize::MAX),
    }
}

/// The `u64` at `offset` of `area`, if it lies there.
fn word_at(area: &[u8], offset: usize) -> Option<u64> {
    let bytes = area.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// Whether what the firmware left in `area` (the bounce area as `plan`
/// laid it out) may go back to the caller after it returned `status`. A
/// size it wrote back (a variable's, a name's) must not exceed the one it
/// was given, or with `EFI_BUFFER_TOO_SMALL` the area (no larger buffer
/// could be passed through it); on success a name it returned must end
/// within its size. The kernel's callers allocate and read by those sizes:
/// efivarfs allocates a variable's size plus 4, which a size near 2^64
/// would wrap.
pub(crate) fn returned_sane(plan: &Plan, status: EfiStatus, area: &[u8]) -> bool {
    let too_small = status.0 == EfiStatus::BUFFER_TOO_SMALL.0;
    plan.copies.iter().flatten().all(|c| {
        let size_ok = match c.value {
            Some(given) if c.copy_out => word_at(area, c.offset).is_some_and(|n| {
                n <= if too_small {
                    plan.capacity as u64
                } else {
                    given
                }
            }),
            _ => true,
        };
        let name_ok = status.is_error() || !c.name || {
            let returned = c.out_len_at.and_then(|at| word_at(area, at));
            let len = copy_back_len(c, returned);
            area.get(c.offset..c.offset + len)
                .is_some_and(|name| name.chunks_exact(2).any(|u| u == [0, 0]))
        };
        size_ok && name_ok
    })
}

/// How many bytes of `copy` go back to the caller, given the `u64` the
/// firmware left where `out_len_at` points (if it does).
pub(crate) fn copy_back_len(copy: &Copy, firmware_len: Option<u64>) -> usize {
    match firmware_len {
        Some(n) => copy.len.min(usize::try_from(n).unwrap_or(usize::MAX)),
        None => copy.len,
    }
}
