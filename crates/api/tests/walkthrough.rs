//! Black-box: `scripts/walkthrough.sh`, the curl walk-through of docs/api.md, takes one borrower
//! from registration to a settled loan against the real server, so the document stays true.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use cashloan_test_support::server::ADMIN_TOKEN;

#[test]
fn the_documented_walkthrough_takes_a_loan_from_registration_to_repayment() {
    if Command::new("curl").arg("--version").output().is_err() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "note: walkthrough test SKIPPED: curl is not installed"
        );
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/walkthrough.sh");
    common::on_every_backend(&[], |s| {
        let out = Command::new("bash")
            .arg(script)
            .args([
                s.url.as_str(),
                &s.outbox.display().to_string(),
                ADMIN_TOKEN,
                "13911112222",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {stdout}\n{}",
            s.backend,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("done: 13911112222 borrowed 1000.00 and repaid it"),
            "{stdout}"
        );
    });
}
