// SPDX-License-Identifier: GPL-2.0

//! efimm: UEFI runtime services in a dedicated mm.

use kernel::prelude::*;

module! {
    type: Efimm,
    name: "efimm",
    authors: ["efimm developers"],
    description: "UEFI runtime services in a dedicated mm",
    license: "GPL",
}

struct Efimm;

impl kernel::Module for Efimm {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("loaded\n");
        Ok(Efimm)
    }
}

impl Drop for Efimm {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
