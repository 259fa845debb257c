// SPDX-License-Identifier: GPL-2.0

use crate::fault::{Fault, FaultLog};

fn cause(error_code: u64) -> String {
    let mut s = String::new();
    Fault {
        service: "get_time",
        address: 0,
        ip: 0,
        error_code,
    }
    .write_cause(&mut s)
    .unwrap();
    s
}

#[test]
fn causes_read_like_the_kernel_oops() {
    // Jump to address 0: supervisor fetch, nothing mapped.
    assert_eq!(
        cause(0x10),
        "supervisor instruction fetch, not-present page"
    );
    // Jump into an NX data page.
    assert_eq!(
        cause(0x11),
        "supervisor instruction fetch, permissions violation"
    );
    assert_eq!(
        cause(0x03),
        "supervisor write access, permissions violation"
    );
    assert_eq!(cause(0x00), "supervisor read access, not-present page");
    assert_eq!(
        cause(0x09),
        "supervisor read access, reserved bit violation"
    );
    assert_eq!(cause(0x06), "user write access, not-present page");
}

#[test]
fn log_disarms_and_describes_the_last_fault() {
    let mut log = FaultLog::default();
    let mut s = String::new();
    log.write(&mut s).unwrap();
    assert_eq!(s, "faults 0\nstate armed\n");

    log.record(Fault {
        service: "get_variable",
        address: 0x7e9f_5000,
        ip: 0x7e9f_5000,
        error_code: 0x11,
    });
    log.disarmed = false;
    log.record(Fault {
        service: "get_time",
        address: 0,
        ip: 0,
        error_code: 0x10,
    });
    assert!(log.disarmed);
    let mut s = String::new();
    log.write(&mut s).unwrap();
    assert_eq!(
        s,
        "faults 2\nstate disarmed\nlast_service get_time\nlast_address 0x0\n\
         last_ip 0x0\nlast_error_code 0x10\n\
         last_cause supervisor instruction fetch, not-present page\n"
    );
}
