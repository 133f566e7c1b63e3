//! Entry point kept thin so that everything testable lives in the library.

// Each letter allocates a few dozen short-lived strings on every worker thread; mimalloc's
// thread-local free lists make that a fifth cheaper than the system allocator (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(letterdrive::run(std::env::args_os()));
}
