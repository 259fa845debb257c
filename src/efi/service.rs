// SPDX-License-Identifier: GPL-2.0

//! The twelve UEFI runtime services efimm calls.

/// A runtime service. The discriminant is its index in [`Service::ALL`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Service {
    GetTime,
    SetTime,
    GetWakeupTime,
    SetWakeupTime,
    GetVariable,
    GetNextVariableName,
    SetVariable,
    QueryVariableInfo,
    GetNextHighMonotonicCount,
    ResetSystem,
    UpdateCapsule,
    QueryCapsuleCapabilities,
}

impl Service {
    /// Every service, in the order counters list them.
    pub(crate) const ALL: [Service; 12] = [
        Service::GetTime,
        Service::SetTime,
        Service::GetWakeupTime,
        Service::SetWakeupTime,
        Service::GetVariable,
        Service::GetNextVariableName,
        Service::SetVariable,
        Service::QueryVariableInfo,
        Service::GetNextHighMonotonicCount,
        Service::ResetSystem,
        Service::UpdateCapsule,
        Service::QueryCapsuleCapabilities,
    ];

    /// Whether a call changes what the firmware stores (a variable, the
    /// time, the alarm, the monotonic count) or the machine: its caller
    /// must learn how it ended, as efivarfs keeps its files in step with
    /// the store by it.
    pub(crate) fn changes_state(self) -> bool {
        matches!(
            self,
            Service::SetTime
                | Service::SetWakeupTime
                | Service::SetVariable
                | Service::GetNextHighMonotonicCount
                | Service::ResetSystem
                | Service::UpdateCapsule
        )
    }

    /// Slots after the table header, SetVirtualAddressMap and ConvertPointer
    /// included: the size of the function-pointer part of the table.
    pub(crate) const TABLE_SLOTS: usize = 14;

    /// The name used in debugfs (`counters`, `bench`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::GetTime => "get_time",
            Service::SetTime => "set_time",
            Service::GetWakeupTime => "get_wakeup_time",
            Service::SetWakeupTime => "set_wakeup_time",
            Service::GetVariable => "get_variable",
            Service::GetNextVariableName => "get_next_variable",
            Service::SetVariable => "set_variable",
            Service::QueryVariableInfo => "query_variable_info",
            Service::GetNextHighMonotonicCount => "get_next_high_mono_count",
            Service::ResetSystem => "reset_system",
            Service::UpdateCapsule => "update_capsule",
            Service::QueryCapsuleCapabilities => "query_capsule_caps",
        }
    }

    /// The service called `name` in debugfs.
    pub(crate) fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Position in [`Service::ALL`], for per-service arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The service whose function pointer is in `slot`.
    pub(crate) fn from_slot(slot: usize) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.slot() == slot)
    }

    /// Slot of the function pointer in `EFI_RUNTIME_SERVICES` after the
    /// header (slots 4 and 5 are the boot-time SetVirtualAddressMap and
    /// ConvertPointer). The C side takes the same numbers from the kernel's
    /// `efi_runtime_services_t` (`RT_SLOT()` in `rust/internal.h`).
    pub(crate) fn slot(self) -> usize {
        match self {
            Service::GetTime => 0,
            Service::SetTime => 1,
            Service::GetWakeupTime => 2,
            Service::SetWakeupTime => 3,
            Service::GetVariable => 6,
            Service::GetNextVariableName => 7,
            Service::SetVariable => 8,
            Service::GetNextHighMonotonicCount => 9,
            Service::ResetSystem => 10,
            Service::UpdateCapsule => 11,
            Service::QueryCapsuleCapabilities => 12,
            Service::QueryVariableInfo => 13,
        }
    }

    /// Whether a runtime services table whose header gives `header_size`
    /// (the size of the whole table) has this service's slot: EFI 1.10
    /// tables end after ResetSystem.
    pub(crate) fn in_table(self, header_size: u32) -> bool {
        let end = TABLE_HEADER_BYTES + (self.slot() + 1) * 8;
        end <= header_size as usize
    }
}

/// `EFI_TABLE_HEADER`: signature, revision, header size, crc32, reserved.
pub(crate) const TABLE_HEADER_BYTES: usize = 24;
