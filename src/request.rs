// SPDX-License-Identifier: GPL-2.0

//! A firmware call, built only from typed borrows.
//!
//! The firmware receives raw pointers. A [`Request`] can only be made by the
//! constructors below, each of which takes the exact borrows its service
//! writes or reads, with buffer sizes taken from the buffers themselves; the
//! borrows last as long as the `Request`, and every path blocks until the
//! firmware has returned. That is what makes the pointers valid for
//! `FirmwareFn::call` in the FFI layer (`sys/firmware.rs`), which takes
//! them only as [`FirmwareArgs`]: none, or those of a [`RawRequest`], which
//! only the unsafe [`Request::erase`] makes.

use crate::efi::{
    guid::Guid,
    service::Service,
    status::EfiStatus,
    time::EfiTime,
    time::EfiTimeCap,
    ucs2, //
};
use core::marker::PhantomData;

/// A validated, NUL-terminated UCS-2 variable name.
#[derive(Clone, Copy)]
pub(crate) struct Name<'a>(&'a [u16]);

impl<'a> Name<'a> {
    pub(crate) fn new(units: &'a [u16]) -> Result<Self, ucs2::NameError> {
        ucs2::validate(units)?;
        Ok(Name(units))
    }

    pub(crate) fn units(&self) -> &'a [u16] {
        self.0
    }
}

/// A variable's `EFI_VARIABLE_*` attributes. Defined here, not with the
/// kernel's `impl_flags!`: this file is also built on the host, without the
/// kernel crate. Transparent, as the firmware writes GetVariable's
/// attributes (any bits) through a pointer to one.
#[repr(transparent)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Attributes(u32);

impl Attributes {
    pub(crate) const NON_VOLATILE: Self = Attributes(0x1);
    pub(crate) const BOOTSERVICE_ACCESS: Self = Attributes(0x2);
    pub(crate) const RUNTIME_ACCESS: Self = Attributes(0x4);

    /// The attributes of both.
    pub(crate) const fn union(self, other: Self) -> Self {
        Attributes(self.0 | other.0)
    }
}

/// `EFI_RESET_TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResetType {
    Cold = 0,
    Warm = 1,
    Shutdown = 2,
}

/// `EFI_CAPSULE_HEADER`.
#[repr(C)]
pub(crate) struct CapsuleHeader {
    guid: Guid,
    header_size: u32,
    flags: u32,
    image_size: u32,
}

impl CapsuleHeader {
    /// A capsule of nothing but its header, with the nil GUID.
    pub(crate) fn empty() -> Self {
        let size = core::mem::size_of::<Self>() as u32;
        CapsuleHeader {
            guid: Guid::default(),
            header_size: size,
            flags: 0,
            image_size: size,
        }
    }
}

/// One call's service and arguments, as the firmware will see them.
pub(crate) struct Request<'a> {
    service: Service,
    args: [u64; 5],
    _borrows: PhantomData<&'a mut ()>,
}

/// A [`Request`] with its lifetime erased, for the hop to the efimm thread.
///
/// # Invariants
///
/// Made only by [`Request::erase`]: the borrows its arguments point into
/// outlive it.
pub(crate) struct RawRequest {
    service: Service,
    args: FirmwareArgs,
}

/// The five arguments of a firmware call. Not `Copy`: a [`RawRequest`]
/// lends its own by reference only, so they cannot outlive it.
///
/// # Invariants
///
/// All zero (no pointers), or held by a [`RawRequest`]: its pointers are
/// valid while that lives.
pub(crate) struct FirmwareArgs([u64; 5]);

impl FirmwareArgs {
    /// No arguments, for efimm's own functions.
    pub(crate) const fn none() -> Self {
        // INVARIANT: all zero.
        FirmwareArgs([0; 5])
    }

    pub(crate) fn as_ptr(&self) -> *const u64 {
        self.0.as_ptr()
    }

    /// The arguments as numbers, for the cpl3 bounce plan.
    pub(crate) fn values(&self) -> &[u64; 5] {
        &self.0
    }
}

fn addr<T: ?Sized>(r: &T) -> u64 {
    core::ptr::from_ref(r).cast::<u8>() as u64
}

fn addr_mut<T: ?Sized>(r: &mut T) -> u64 {
    core::ptr::from_mut(r).cast::<u8>() as u64
}

fn opt_mut<T>(r: Option<&mut T>) -> u64 {
    r.map_or(0, |r| addr_mut(r))
}

impl<'a> Request<'a> {
    fn new(service: Service, args: [u64; 5]) -> Self {
        Request {
            service,
            args,
            _borrows: PhantomData,
        }
    }

    pub(crate) fn service(&self) -> Service {
        self.service
    }

    /// The arguments, valid for a call while `self` lives.
    pub(crate) fn args(&self) -> &[u64; 5] {
        &self.args
    }

    /// The request without its lifetime, for a call made by another thread.
    ///
    /// # Safety
    ///
    /// The returned `RawRequest` must be dropped (the call completed) before
    /// the borrows of `self` end: it holds their addresses, not their
    /// lifetime.
    pub(crate) unsafe fn erase(&self) -> RawRequest {
        // INVARIANT: the caller keeps the borrows alive while it lives.
        RawRequest {
            service: self.service,
            args: FirmwareArgs(self.args),
        }
    }

    pub(crate) fn get_time(time: &'a mut EfiTime, cap: Option<&'a mut EfiTimeCap>) -> Self {
        Self::new(Service::GetTime, [addr_mut(time), opt_mut(cap), 0, 0, 0])
    }

    pub(crate) fn set_time(time: &'a EfiTime) -> Self {
        Self::new(Service::SetTime, [addr(time), 0, 0, 0, 0])
    }

    pub(crate) fn get_wakeup_time(
        enabled: &'a mut u8,
        pending: &'a mut u8,
        time: &'a mut EfiTime,
    ) -> Self {
        Self::new(
            Service::GetWakeupTime,
            [addr_mut(enabled), addr_mut(pending), addr_mut(time), 0, 0],
        )
    }

    /// `time` may only be absent when disabling the alarm.
    pub(crate) fn set_wakeup_time(enable: bool, time: Option<&'a EfiTime>) -> Self {
        Self::new(
            Service::SetWakeupTime,
            [u64::from(enable), time.map_or(0, addr), 0, 0, 0],
        )
    }

    /// Reads a variable into `data`; `size` receives its size (or the size
    /// needed, with `EFI_BUFFER_TOO_SMALL`).
    pub(crate) fn get_variable(
        name: Name<'a>,
        vendor: &'a Guid,
        attributes: Option<&'a mut Attributes>,
        size: &'a mut u64,
        data: &'a mut [u8],
    ) -> Self {
        *size = data.len() as u64;
        Self::new(
            Service::GetVariable,
            [
                addr(name.units()),
                addr(vendor),
                opt_mut(attributes),
                addr_mut(size),
                addr_mut(data),
            ],
        )
    }

    /// Steps an enumeration: `name` holds the previous name (empty to
    /// start) and receives the next one, `size` the bytes it needs.
    pub(crate) fn get_next_variable(
        name: &'a mut [u16],
        size: &'a mut u64,
        vendor: &'a mut Guid,
    ) -> Result<Self, ucs2::NameError> {
        ucs2::terminated_len(name)?;
        *size = core::mem::size_of_val(name) as u64;
        Ok(Self::new(
            Service::GetNextVariableName,
            [addr_mut(size), addr_mut(name), addr_mut(vendor), 0, 0],
        ))
    }

    /// Writes (or with empty `data`, deletes) a variable.
    pub(crate) fn set_variable(
        name: Name<'a>,
        vendor: &'a Guid,
        attributes: Attributes,
        data: &'a [u8],
    ) -> Self {
        Self::new(
            Service::SetVariable,
            [
                addr(name.units()),
                addr(vendor),
                u64::from(attributes.0),
                data.len() as u64,
                addr(data),
            ],
        )
    }

    pub(crate) fn query_variable_info(attributes: Attributes, out: &'a mut [u64; 3]) -> Self {
        let [max_storage, remaining, max_size] = out;
        Self::new(
            Service::QueryVariableInfo,
            [
                u64::from(attributes.0),
                addr_mut(max_storage),
                addr_mut(remaining),
                addr_mut(max_size),
                0,
            ],
        )
    }

    pub(crate) fn get_next_high_mono_count(count: &'a mut u32) -> Self {
        Self::new(
            Service::GetNextHighMonotonicCount,
            [addr_mut(count), 0, 0, 0, 0],
        )
    }

    /// No `data` is passed as NULL, not as an empty slice's dangling
    /// address: the firmware reads a non-NULL ResetData as a string.
    pub(crate) fn reset_system(kind: ResetType, status: EfiStatus, data: &'a [u8]) -> Self {
        let data_ptr = if data.is_empty() { 0 } else { addr(data) };
        Self::new(
            Service::ResetSystem,
            [kind as u64, status.0, data.len() as u64, data_ptr, 0],
        )
    }

    /// `headers` is the array of capsule pointers the firmware expects: a
    /// slice of references has the layout of an array of pointers. No
    /// scatter-gather list: capsules that persist across reset are not
    /// issued by efimm itself.
    pub(crate) fn update_capsule(headers: &'a [&'a CapsuleHeader]) -> Self {
        Self::new(
            Service::UpdateCapsule,
            [addr(headers), headers.len() as u64, 0, 0, 0],
        )
    }

    pub(crate) fn query_capsule_caps(
        headers: &'a [&'a CapsuleHeader],
        max_size: &'a mut u64,
        reset_type: &'a mut u32,
    ) -> Self {
        Self::new(
            Service::QueryCapsuleCapabilities,
            [
                addr(headers),
                headers.len() as u64,
                addr_mut(max_size),
                addr_mut(reset_type),
                0,
            ],
        )
    }

    /// A request built by the kernel for one of its own `efi.*` calls.
    ///
    /// # Safety
    ///
    /// `args` must be what the kernel passes to `service` through `struct
    /// efi`, valid until the call returns.
    pub(crate) unsafe fn from_kernel(service: Service, args: [u64; 5]) -> Self {
        Self::new(service, args)
    }
}

impl RawRequest {
    pub(crate) fn service(&self) -> Service {
        self.service
    }

    pub(crate) fn args(&self) -> &FirmwareArgs {
        &self.args
    }
}
