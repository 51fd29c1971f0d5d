//! `uniffi-bindgen`, at the facade's uniffi version: `uniffi-bindgen generate --library
//! target/release/libguardian_ffi.so --language kotlin|swift --out-dir DIR`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
