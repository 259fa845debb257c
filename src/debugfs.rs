// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/efimm/`: what efimm maps, what it costs, and its
//! switches. Data files hold one `key value` per line; the formats are
//! documented in Documentation/efimm.rst.

use crate::bench::{
    self,
    Report,
    Spec, //
};
use crate::call::{
    InjectedFault,
    Shared, //
};
use crate::counters::{
    PathId,
    COUNTERS, //
};
use crate::efi::status::EfiStatus;
use crate::path::{
    KernelPath,
    Path, //
};
use crate::port_io::PORTS;
use crate::ptdump;
use crate::request::{
    Request,
    ResetType, //
};
use crate::route::Router;
use crate::sys::{
    self,
    Mode, //
};
use core::fmt;
use kernel::{
    debugfs::{
        Scope,
        ScopedDir, //
    },
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    uaccess::UserSliceReader, //
};

/// Longest command a debugfs file accepts.
const MAX_COMMAND: usize = 64;

/// What the files read and drive.
#[pin_data]
pub(crate) struct Files {
    shared: Arc<Shared>,
    /// The module's: the `route` file only switches it.
    router: Arc<Router>,
    #[pin]
    bench: Mutex<Option<Report>>,
}

/// Creates the directory, which goes away when the `Scope` drops.
pub(crate) fn create(
    shared: Arc<Shared>,
    router: Arc<Router>,
) -> impl PinInit<Scope<Files>, Error> {
    let files = try_pin_init!(Files {
        shared,
        router,
        bench <- new_mutex!(None),
    }? Error);
    Scope::dir(files, c"efimm", populate)
}

fn populate<'a>(files: &'a Files, dir: &ScopedDir<'a, '_>) {
    dir.read_callback_file(c"regions", files, &|f: &Files, out| {
        f.shared.map().write_regions(out)
    });
    dir.read_callback_file(c"page_tables", files, &|f: &Files, out| {
        ptdump::write(f.shared.mm(), out)
    });
    dir.read_callback_file(c"page_tables_summary", files, &write_summary);
    dir.read_callback_file(c"mode", files, &write_mode);
    dir.read_write_callback_file(
        c"counters",
        files,
        &|_: &Files, out| COUNTERS.write(out),
        &reset_counters,
    );
    dir.read_write_callback_file(c"route", files, &write_route, &set_route);
    dir.read_write_callback_file(
        c"lend_priority",
        files,
        &|f: &Files, out| writeln!(out, "{}", u8::from(f.shared.lends_priority())),
        &set_lend_priority,
    );
    dir.read_write_callback_file(c"bench", files, &write_bench, &run_bench);
    dir.write_only_callback_file(c"reset", files, &reset_system);
    dir.read_write_callback_file(
        c"watch_kernel_path",
        files,
        &|_: &Files, out| writeln!(out, "{}", u8::from(sys::kernel_path_watched())),
        &watch_kernel_path,
    );
    dir.read_write_callback_file(
        c"fault",
        files,
        &|f: &Files, out| f.shared.write_faults(out),
        &rearm,
    );
    #[cfg(CONFIG_FAULT_INJECTION_DEBUG_FS)]
    dir.read_write_callback_file(c"inject_fault", files, &write_injected, &inject_fault);
}

/// `1` or `0`: probe the kernel's firmware bracket (overlaps, preemption).
fn watch_kernel_path(_: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    match read_command(reader, &mut buf)? {
        "0" => sys::watch_kernel_path(false),
        "1" => sys::watch_kernel_path(true),
        _ => Err(EINVAL),
    }
}

/// `rearm`: take calls again after a firmware fault.
fn rearm(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    match read_command(reader, &mut buf)? {
        "rearm" => f.shared.rearm(),
        _ => Err(EINVAL),
    }
}

#[cfg(CONFIG_FAULT_INJECTION_DEBUG_FS)]
fn write_injected(f: &Files, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        out,
        "{}",
        f.shared.injected().map_or("none", InjectedFault::name)
    )
}

/// `nx`, `unmapped`, `gp`, `ud`, `de`, `int3` or `none`: what the next
/// efimm call does instead of entering the firmware.
#[cfg(CONFIG_FAULT_INJECTION_DEBUG_FS)]
fn inject_fault(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    let fault = match read_command(reader, &mut buf)? {
        "none" => None,
        name => Some(
            InjectedFault::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or(EINVAL)?,
        ),
    };
    f.shared.inject(fault)
}

/// Where the firmware runs, and for cpl3 how long a call may take and how
/// many of its port accesses were emulated and refused.
fn write_mode(f: &Files, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mode = f.shared.mode();
    writeln!(out, "{}", mode.name())?;
    if mode == Mode::Cpl3 {
        writeln!(
            out,
            "cpl3_timeout_ms {}",
            f.shared.cpl3_timeout_ns() / 1_000_000
        )?;
        writeln!(out, "seal {}", u8::from(sys::seal_requested()))?;
        writeln!(out, "port_io_emulated {}", PORTS.emulated())?;
        writeln!(out, "port_io_refused {}", PORTS.refused())?;
    }
    writeln!(out, "sealed {}", u8::from(sys::runtime_sealed()))?;
    Ok(())
}

fn write_summary(f: &Files, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    let map = f.shared.map();
    ptdump::summary(f.shared.mm(), map.regions(), map.own_area(f.shared.mode())).write(out)?;
    writeln!(out, "null_call_page {:#x}", map.null_call_page())?;
    writeln!(out, "mat_entries {}", map.mat_entries())?;
    writeln!(out, "planned_wx_pages {}", map.wx_pages())?;
    let counts = f.shared.mm().counts();
    writeln!(out, "mm_users {}", counts.users)?;
    writeln!(out, "mm_count {}", counts.count)
}

/// Reads a short text command, whitespace trimmed.
fn read_command<'b>(
    reader: &mut UserSliceReader,
    buf: &'b mut [u8; MAX_COMMAND],
) -> Result<&'b str> {
    let len = reader.len();
    if len == 0 || len > buf.len() {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    core::str::from_utf8(&buf[..len])
        .map(str::trim)
        .map_err(|_| EINVAL)
}

fn reset_counters(_: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    match read_command(reader, &mut buf)? {
        "0" => {
            COUNTERS.reset();
            Ok(())
        }
        _ => Err(EINVAL),
    }
}

fn write_route(f: &Files, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(out, "{}", u8::from(f.router.is_routed()))
}

fn set_route(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    let routed = match read_command(reader, &mut buf)? {
        "0" => false,
        "1" => true,
        _ => return Err(EINVAL),
    };
    f.router.set(routed)
}

/// `1` or `0`: callers lend their priority to what makes their calls.
fn set_lend_priority(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    match read_command(reader, &mut buf)? {
        "0" => f.shared.set_lend_priority(false),
        "1" => f.shared.set_lend_priority(true),
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// `cold`, `warm` or `shutdown`: ResetSystem through efimm. Returns only if
/// the firmware did not reset.
fn reset_system(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    let kind = match read_command(reader, &mut buf)? {
        "cold" => ResetType::Cold,
        "warm" => ResetType::Warm,
        "shutdown" => ResetType::Shutdown,
        _ => return Err(EINVAL),
    };
    pr_info!("ResetSystem({kind:?}) through efimm\n");
    let status = f
        .shared
        .call(&Request::reset_system(kind, EfiStatus::SUCCESS, &[]))?;
    pr_err!("ResetSystem returned {}\n", format_args!("{status}"));
    Err(EIO)
}

fn write_bench(f: &Files, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    match &*f.bench.lock() {
        Some(report) => report.write(out),
        None => Ok(()),
    }
}

fn run_bench(f: &Files, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; MAX_COMMAND];
    let spec = Spec::parse(read_command(reader, &mut buf)?)?;
    let path: &dyn Path = match spec.path {
        PathId::Efimm => &*f.shared,
        PathId::Kernel => &KernelPath,
    };
    let report = bench::run(spec, path)?;
    *f.bench.lock() = Some(report);
    Ok(())
}
