//! Compiles `src/guard.cc`: try/catch trampolines around the LiteRT 2.1.4 calls that can let
//! C++ exceptions escape through the C API (an exception reaching Rust aborts the process).

fn main() {
    println!("cargo:rerun-if-changed=src/guard.cc");
    cc::Build::new()
        .cpp(true)
        .file("src/guard.cc")
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-fexceptions")
        .warnings(true)
        .compile("guardian_litert_guard");
}
