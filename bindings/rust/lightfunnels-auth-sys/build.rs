//! Finds liblightfunnels-auth with the `pkg-config` program (no crates: this
//! builds with `cargo --offline`), and runs a small C probe that records the
//! header's struct layouts and constants for `tests/layout.rs`.
//!
//! Environment:
//!   PKG_CONFIG       the pkg-config program (default `pkg-config`)
//!   PKG_CONFIG_PATH  where lightfunnels-auth.pc lives for a non-system prefix
//!   CC               the C compiler for the probe (default `cc`)

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "lightfunnels-auth";
const REQUIRED_MAJOR: &str = "1";
/// The declarations mirror 1.1 (lf_call_options.code_sent,
/// lf_auth_config.stall_timeout_ms): an older 1.x would reject their sizes.
const REQUIRED_MINOR: u32 = 1;

fn main() {
    for var in ["PKG_CONFIG_PATH", "PKG_CONFIG", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "CC"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=probe/layout.c");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let version = pkg_config(&["--modversion", PACKAGE]);
    let version = version.trim();
    let mut parts = version.split('.');
    let major = parts.next();
    let minor = parts.next().and_then(|m| m.parse::<u32>().ok());
    if major != Some(REQUIRED_MAJOR) || minor.map_or(true, |m| m < REQUIRED_MINOR) {
        fail(&format!(
            "{} {} found through pkg-config, but this crate needs {}.{} or a later {}.x",
            PACKAGE, version, REQUIRED_MAJOR, REQUIRED_MINOR, REQUIRED_MAJOR
        ));
    }

    let libs = pkg_config(&["--libs", PACKAGE]);
    let mut linked = false;
    for arg in split_args(&libs) {
        if let Some(dir) = arg.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = arg.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={}", lib);
            linked |= lib == PACKAGE;
        }
        // Anything else (-pthread, -Wl,...) is for static linking or the C
        // driver; the shared library carries its own dependencies.
    }
    if !linked {
        println!("cargo:rustc-link-lib={}", PACKAGE);
    }

    let cflags = pkg_config(&["--cflags", PACKAGE]);
    let cflags = split_args(&cflags);
    let include_dirs: Vec<PathBuf> =
        cflags.iter().filter_map(|a| a.strip_prefix("-I")).map(PathBuf::from).collect();
    for dir in &include_dirs {
        // Exposed to dependent crates' build scripts as DEP_LIGHTFUNNELS_AUTH_INCLUDE.
        println!("cargo:include={}", dir.display());
    }
    println!("cargo:version={}", version);

    // The layout probe is a test aid: when it cannot run, building still works
    // and tests/layout.rs fails with the reason recorded here.
    let layout = match run_probe(&cflags, &out_dir) {
        Ok(text) => text,
        Err(why) => {
            println!("cargo:warning=lightfunnels-auth-sys layout probe not run: {}", why);
            format!("error {}\n", why.replace('\n', " "))
        }
    };
    write(&out_dir.join("layout.txt"), layout.as_bytes());

    // A copy of the header the probe saw, so the test can check that every
    // function it declares is declared in src/lib.rs.
    // The layout and this copy follow the header: a changed header runs this
    // script again (else a stale copy would hide a new function).
    let header_path = find_header(&include_dirs);
    if let Some(p) = &header_path {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let header = header_path
        .and_then(|p| fs::read(&p).ok())
        .unwrap_or_else(|| b"/* lightfunnels/auth.h not found in pkg-config --cflags */".to_vec());
    write(&out_dir.join("auth.h"), &header);
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {}", msg);
    panic!("lightfunnels-auth-sys: {}", msg);
}

fn write(path: &Path, data: &[u8]) {
    if let Err(e) = fs::write(path, data) {
        fail(&format!("cannot write {}: {}", path.display(), e));
    }
}

fn pkg_config(args: &[&str]) -> String {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = match Command::new(&program).args(args).output() {
        Ok(o) => o,
        Err(e) => fail(&format!(
            "could not run `{}` ({}). Install pkg-config (Debian: pkgconf) or set PKG_CONFIG.",
            program, e
        )),
    };
    if !output.status.success() {
        fail(&format!(
            "`{} {}` failed: {}\nlightfunnels-auth is not installed where pkg-config looks. \
             Install it, or point PKG_CONFIG_PATH at the directory holding {}.pc \
             (PKG_CONFIG_PATH is currently {:?}).",
            program,
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim(),
            PACKAGE,
            env::var("PKG_CONFIG_PATH").unwrap_or_default()
        ));
    }
    match String::from_utf8(output.stdout) {
        Ok(s) => s,
        Err(_) => fail("pkg-config printed non-UTF-8 output"),
    }
}

/// Splits pkg-config output on whitespace, honouring backslash escapes
/// (pkg-config escapes spaces in paths that way).
fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    args
}

fn find_header(include_dirs: &[PathBuf]) -> Option<PathBuf> {
    include_dirs
        .iter()
        .cloned()
        .chain([PathBuf::from("/usr/local/include"), PathBuf::from("/usr/include")])
        .map(|d| d.join("lightfunnels").join("auth.h"))
        .find(|p| p.is_file())
}

fn run_probe(cflags: &[String], out_dir: &Path) -> Result<String, String> {
    if env::var("TARGET").ok() != env::var("HOST").ok() {
        return Err("cross-compiling: the probe cannot run on the build machine".into());
    }
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let exe = out_dir.join("layout-probe");
    let compiled = Command::new(&cc)
        .args(cflags)
        .arg("probe/layout.c")
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("could not run the C compiler `{}`: {}", cc, e))?;
    if !compiled.status.success() {
        return Err(format!(
            "`{}` failed on probe/layout.c: {}",
            cc,
            String::from_utf8_lossy(&compiled.stderr).trim()
        ));
    }
    let ran = Command::new(&exe).output().map_err(|e| format!("could not run the probe: {}", e))?;
    if !ran.status.success() {
        return Err(format!("the probe exited with {}", ran.status));
    }
    String::from_utf8(ran.stdout).map_err(|_| "the probe printed non-UTF-8 output".to_string())
}
