// SPDX-License-Identifier: GPL-2.0

use crate::fault::{signal, Exception, Fault, FaultLog, TaskExit};

fn exception_cause(vector: i32, error_code: u64) -> String {
    let mut s = String::new();
    Fault {
        service: "get_time",
        vector,
        address: 0,
        ip: 0,
        error_code,
    }
    .write_cause(&mut s)
    .unwrap();
    s
}

/// A page fault's cause.
fn cause(error_code: u64) -> String {
    exception_cause(14, error_code)
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
fn other_exceptions_read_like_the_kernel_oops() {
    assert_eq!(exception_cause(0, 0), "divide error");
    assert_eq!(exception_cause(3, 0), "int3");
    assert_eq!(exception_cause(6, 0), "invalid opcode");
    assert_eq!(exception_cause(13, 0), "general protection fault");
    assert_eq!(
        exception_cause(13, 0x10),
        "segment-related general protection fault"
    );
    assert_eq!(exception_cause(19, 0), "exception 19");
    assert_eq!(Exception::from_vector(19), Exception::Other);
    assert_eq!(Exception::from_vector(14), Exception::PageFault);
}

#[test]
fn log_disarms_and_describes_the_last_fault() {
    let mut log = FaultLog::default();
    let mut s = String::new();
    log.write(&mut s).unwrap();
    assert_eq!(s, "faults 0\nstate armed\n");

    log.record(Fault {
        service: "get_variable",
        vector: 14,
        address: 0x7e9f_5000,
        ip: 0x7e9f_5000,
        error_code: 0x11,
    });
    assert!(log.rearm());
    assert!(!log.rearm());
    log.record(Fault {
        service: "get_time",
        vector: 14,
        address: 0,
        ip: 0,
        error_code: 0x10,
    });
    assert!(log.disarmed());
    let mut s = String::new();
    log.write(&mut s).unwrap();
    assert_eq!(
        s,
        "faults 2\nstate disarmed\nexception.page_fault 2\n\
         service.get_variable 1\nservice.get_time 1\n\
         last_service get_time\nlast_exception page_fault\nlast_vector 14\n\
         last_address 0x0\nlast_ip 0x0\nlast_error_code 0x10\n\
         last_cause supervisor instruction fetch, not-present page\n"
    );
}

#[test]
fn log_counts_per_exception_and_service() {
    let mut log = FaultLog::default();
    for (service, vector) in [
        ("get_time", 13),
        ("get_time", 6),
        ("null", 0),
        ("get_time", 3),
        ("get_variable", 13),
    ] {
        log.record(Fault {
            service,
            vector,
            address: 0,
            ip: 0x1000,
            error_code: 0,
        });
    }
    let mut s = String::new();
    log.write(&mut s).unwrap();
    let counts: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("exception.") || l.starts_with("service."))
        .collect();
    assert_eq!(
        counts,
        [
            "exception.divide_error 1",
            "exception.breakpoint 1",
            "exception.invalid_opcode 1",
            "exception.general_protection 2",
            "service.get_time 3",
            "service.null 1",
            "service.get_variable 1",
        ]
    );
    assert!(s.contains("last_cause general protection fault\n"));
}

#[test]
fn cpl3_ends_that_are_not_exceptions_have_kinds_of_their_own() {
    assert_eq!(Exception::from_vector(256), Exception::SystemCall);
    assert_eq!(Exception::from_vector(257), Exception::Timeout);
    assert_eq!(Exception::from_vector(258), Exception::Killed);
    // Only those three: the rest of the range is no vector at all.
    assert_eq!(Exception::from_vector(259), Exception::Other);
    assert_eq!(exception_cause(256, 0), "system call");
    assert_eq!(exception_cause(257, 0), "timeout");
    assert_eq!(exception_cause(258, 0xf), "killed (exit code 0xf)");
    // A user-mode page fault reads as one.
    assert_eq!(cause(0x15), "user instruction fetch, permissions violation");
}

#[test]
fn a_cpl3_timeout_is_logged_without_a_vector() {
    let mut log = FaultLog::default();
    log.record(Fault {
        service: "null",
        vector: 257,
        address: 0,
        ip: 0x7fff_ffc0_0000,
        error_code: 0,
    });
    let mut s = String::new();
    log.write(&mut s).unwrap();
    assert!(s.contains("exception.timeout 1\n"), "{s}");
    assert!(s.contains("last_exception timeout\n"), "{s}");
    assert!(!s.contains("last_vector"), "{s}");
    assert!(s.contains("last_cause timeout\n"), "{s}");
}

/// A cpl3 task that ended with `signal` (and `trap`, if an exception sent
/// it), and what the log shows of it.
fn task_end(signal: i32, trap: Option<i32>, timed_out: bool) -> (Exception, u64, u64) {
    let exit = TaskExit {
        code: signal,
        trap,
        error_code: 0x15,
        cr2: 0xdead000,
        timed_out,
    };
    let (vector, error_code, address) = exit.fault();
    (Exception::from_vector(vector), error_code, address)
}

#[test]
fn a_cpl3_exception_keeps_its_vector_and_details() {
    assert_eq!(task_end(signal::SEGV, Some(14), false), (Exception::PageFault, 0x15, 0xdead000));
    // CR2 only for a page fault.
    assert_eq!(task_end(signal::SEGV, Some(13), false), (Exception::GeneralProtection, 0x15, 0));
    assert_eq!(task_end(signal::ILL, Some(6), false), (Exception::InvalidOpcode, 0x15, 0));
    assert_eq!(task_end(signal::FPE, Some(0), false), (Exception::DivideError, 0x15, 0));
    assert_eq!(task_end(signal::TRAP, Some(3), false), (Exception::Breakpoint, 0x15, 0));
    assert_eq!(task_end(signal::BUS, Some(17), false), (Exception::Other, 0x15, 0));
}

#[test]
fn a_cpl3_system_call_is_one_whatever_the_trap() {
    // SIGSYS from the seccomp filter, or an exit() of its own.
    assert_eq!(task_end(signal::SYS, None, false), (Exception::SystemCall, 0, 0));
    assert_eq!(task_end(0, None, false), (Exception::SystemCall, 0, 0));
    assert_eq!(task_end(signal::SYS, Some(13), true), (Exception::SystemCall, 0, 0));
}

#[test]
fn sigkill_is_the_timeout_only_if_it_fired() {
    assert_eq!(task_end(signal::KILL, None, true), (Exception::Timeout, 0, 0));
    // Killed by someone else: the exit code is kept.
    assert_eq!(task_end(signal::KILL, None, false), (Exception::Killed, 9, 0));
}

#[test]
fn a_fault_signal_without_a_trap_was_sent_by_someone_else() {
    // kill -SEGV: no CPU exception, whatever the signal.
    assert_eq!(task_end(signal::SEGV, None, false), (Exception::Killed, 11, 0));
    // A core-dumping exit code keeps its high bits in the log.
    let exit = TaskExit { code: 0x80 | signal::SEGV, trap: None, ..Default::default() };
    assert_eq!(exit.fault(), (258, 0x8b, 0));
    // Any other signal, even with a trap recorded.
    assert_eq!(task_end(15, Some(13), false), (Exception::Killed, 15, 0));
}
