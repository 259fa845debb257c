// SPDX-License-Identifier: GPL-2.0

//! efimm: UEFI runtime services in a dedicated mm.
//!
//! The firmware's runtime regions are mapped 1:1, at their lower-half
//! physical addresses (the kernel must boot with `efi=lowmap`), into an mm
//! of efimm's own, by supervisor-only, non-global PTEs. One kernel thread
//! lives in that mm (`kthread_use_mm()`) and makes every firmware call.
//! See Documentation/efimm.rst.

mod bench;
mod bounce;
mod call;
mod counters;
mod debugfs;
mod efi;
mod fault;
mod lend;
mod mm;
mod path;
mod port_io;
mod ptdump;
mod request;
mod route;
mod sort;
mod sys;

use call::Shared;
use counters::COUNTERS;
use kernel::{
    debugfs::Scope,
    prelude::*,
    sync::Arc, //
};
use mm::RuntimeMap;
use route::Router;
use sys::{
    ExitProbe,
    Mode,
    OwnedMm,
    PortTrap,
    Probes,
    RuntimeLockGuard,
    Thread, //
};

module! {
    type: Efimm,
    name: "efimm",
    authors: ["efimm developers"],
    description: "UEFI runtime services in a dedicated mm",
    license: "GPL",
    params: {
        route: u32 {
            default: 0,
            description: "Route the kernel's EFI runtime services through efimm (0 or 1)",
        },
        cpl3_timeout_ms: u32 {
            default: 5000,
            description: "mode=cpl3: kill a firmware call after this many ms (1 to 600000)",
        },
    },
}

/// The call path: the shared state and the thread serving it.
struct Core {
    shared: Arc<Shared>,
    _thread: Thread<Shared>,
    /// cpl3: emulates the firmware's port I/O; outlives the thread, which
    /// ends the firmware's task.
    _port_trap: Option<PortTrap>,
    /// cpl3: records where each call's task ended; outlives the thread.
    _exit_probe: Option<ExitProbe>,
}

impl Core {
    fn start(map: RuntimeMap, mode: Mode, cpl3_timeout_ns: u64) -> Result<Self> {
        let exit_probe = match mode {
            Mode::Cpl0 => None,
            Mode::Cpl3 => Some(ExitProbe::register()?),
        };
        let mm = OwnedMm::new(mode)?;
        let port_trap = match mode {
            Mode::Cpl0 => None,
            Mode::Cpl3 => Some(PortTrap::register(&mm, &port_io::PORTS)?),
        };
        let shared = Arc::pin_init(Shared::new(mm, map, cpl3_timeout_ns), GFP_KERNEL)?;
        let core = Core {
            _thread: Thread::start(shared.clone())?,
            shared,
            _port_trap: port_trap,
            _exit_probe: exit_probe,
        };
        core.shared.wait_ready()?;
        Ok(core)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // The thread finishes the call in flight, then `_thread` reaps it.
        // The module stopped it already, unless its init failed after
        // `Core::start`: stopping twice is harmless.
        self.shared.stop();
    }
}

/// The module's routing switch, which debugfs shares: routing is off once
/// this drops, whoever else holds the router.
struct Routes(Arc<Router>);

impl Drop for Routes {
    fn drop(&mut self) {
        self.0.off();
    }
}

struct Efimm {
    // Dropped in this order, once `drop` has refused new calls: the debugfs
    // files, waiting for their users (so no `route` write switches routing
    // back on); routing; the probes; the thread last.
    _debugfs: Pin<KBox<Scope<debugfs::Files>>>,
    _routes: Routes,
    _probes: Probes,
    core: Core,
}

impl kernel::Module for Efimm {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let route = *module_parameters::route.value();
        if route > 1 {
            pr_err!("route={route}: must be 0 or 1\n");
            return Err(EINVAL);
        }
        let mode = Mode::from_param().inspect_err(|_| pr_err!("mode: must be cpl0 or cpl3\n"))?;
        if mode == Mode::Cpl3 && !cfg!(CONFIG_SECCOMP_FILTER) {
            pr_err!("mode=cpl3 needs CONFIG_SECCOMP_FILTER\n");
            return Err(sys::eopnotsupp());
        }
        let timeout_ms = *module_parameters::cpl3_timeout_ms.value();
        if !(1..=600_000).contains(&timeout_ms) {
            pr_err!("cpl3_timeout_ms={timeout_ms}: must be 1 to 600000\n");
            return Err(EINVAL);
        }
        // Sealed by an earlier cpl3 call: the firmware may have rewritten
        // what a call in kernel mode would trust.
        if sys::runtime_sealed() && mode == Mode::Cpl0 {
            pr_err!("mode=cpl0: the firmware has run at CPL3 in this boot, and may not run in kernel mode again until reboot\n");
            return Err(EPERM);
        }
        if !sys::runtime_services_enabled() && !sys::runtime_sealed() {
            pr_err!("EFI runtime services are not available\n");
            return Err(ENODEV);
        }
        if sys::runtime_closed() {
            pr_warn!("runtime services closed after a fault in the firmware: write rearm to the fault file to call it again\n");
        }
        if !sys::booted_lowmap() {
            pr_err!("the firmware is not mapped 1:1 in the lower half: boot with efi=lowmap\n");
            return Err(sys::eopnotsupp());
        }
        sys::save_kernel_path();

        let map = RuntimeMap::from_firmware(mode)?;
        let (regions, mat) = (map.regions().len(), map.mat_entries());
        let core = Core::start(map, mode, u64::from(timeout_ms) * 1_000_000)?;
        let probes = Probes::register(&COUNTERS)
            .inspect_err(|e| pr_err!("cannot register probes: {e:?}\n"))?;
        let routes = Routes(Arc::pin_init(Router::new(core.shared.clone()), GFP_KERNEL)?);
        let files = KBox::pin_init(
            debugfs::create(core.shared.clone(), routes.0.clone()),
            GFP_KERNEL,
        )?;
        // The firmware may rewrite at CPL3 what a kernel-mode call would
        // trust: no kernel-mode call from now on, before the first at CPL3.
        if mode == Mode::Cpl3 && sys::seal_requested() {
            sys::seal(&RuntimeLockGuard::lock()?).inspect_err(|e| {
                if *e == EBUSY {
                    pr_err!("mode=cpl3: this machine powers off only through the firmware, which the seal would close to the kernel; seal=0 runs the firmware at CPL3 unsealed\n");
                }
            })?;
        }
        // Last: nothing after it can fail and unroute again.
        routes.0.set(route == 1)?;
        pr_info!(
            "ready: {regions} runtime regions mapped 1:1 in a dedicated mm ({mat} MAT entries), firmware at {}\n",
            mode.name()
        );
        Ok(Efimm {
            _debugfs: files,
            _routes: routes,
            _probes: probes,
            core,
        })
    }
}

impl Drop for Efimm {
    fn drop(&mut self) {
        pr_info!("unloading\n");
        // First refuse new calls: a bench run in flight ends at its next
        // call, routed callers fall back to the kernel's path, and removing
        // the debugfs files (which waits for their users) is quick.
        self.core.shared.stop();
    }
}
