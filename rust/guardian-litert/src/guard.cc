// Catches C++ exceptions that LiteRT 2.1.4 lets escape through its C API.
//
// LiteRT 2.1.4 throws through some C functions (found by the corruption test: std::out_of_range
// "Span::at failed bounds check" from LiteRtCreateModelFromBuffer, std::logic_error while
// creating tensor buffers for a damaged model). Rust cannot catch a foreign exception (it
// aborts), so guardian-litert runs every block of LiteRT calls as `body(ctx)` inside this
// try/catch. `body` and the LiteRT functions are declared "C-unwind" on the Rust side, which
// lets the exception unwind through the Rust frames (running their destructors) up to here.

#include <cstddef>
#include <cstring>
#include <exception>

namespace {

void CopyWhat(const char* what, char* out, size_t out_len) {
  if (out == nullptr || out_len == 0) return;
  std::strncpy(out, what != nullptr ? what : "", out_len - 1);
  out[out_len - 1] = '\0';
}

}  // namespace

extern "C" {

typedef void (*GuardianLiteRtBody)(void* ctx);

// Returns 0 if `body` returned, 1 if it threw (its what() copied into `what`, NUL-terminated).
int guardian_litert_guard(GuardianLiteRtBody body, void* ctx, char* what, size_t what_len) {
  try {
    body(ctx);
    return 0;
  } catch (const std::exception& e) {
    CopyWhat(e.what(), what, what_len);
  } catch (...) {
    CopyWhat("unknown C++ exception", what, what_len);
  }
  return 1;
}

}  // extern "C"
