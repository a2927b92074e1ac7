//! Generates the table of word characters from the Unicode database of the Python that builds the
//! extension: `[^\W_]` in Python's `re` is `str.isalnum()`, whose Unicode version is Python's own
//! (3.11 has 14.0), not Rust's. indexer/analysis.py uses the extension only when the versions match.
use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"
import sys, unicodedata
ranges, start = [], None
for c in range(0x80, 0x110001):
    word = c < 0x110000 and chr(c).isalnum()
    if word and start is None:
        start = c
    elif not word and start is not None:
        ranges.append((start, c - 1))
        start = None
print(unicodedata.unidata_version)
print(",".join(f"({a:#x},{b:#x})" for a, b in ranges))
"#;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let output = Command::new(&python)
        .args(["-c", SCRIPT])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} to read its Unicode database: {e}"));
    assert!(output.status.success(), "{python} failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("utf-8 output");
    let mut lines = text.lines();
    let version = lines.next().expect("unicode version");
    let ranges = lines.next().expect("ranges");
    let code = format!(
        "/// Python's `unicodedata.unidata_version` when this was built.\n\
         pub const UNIDATA_VERSION: &str = \"{version}\";\n\
         /// Non-ASCII code point ranges (inclusive) for which Python's `str.isalnum()` is true.\n\
         pub static ALNUM_RANGES: &[(u32, u32)] = &[{ranges}];\n"
    );
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("unicode_table.rs");
    fs::write(out, code).unwrap();
}
