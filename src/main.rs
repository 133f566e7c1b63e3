//! Entry point kept thin so that everything testable lives in the library.

#![forbid(unsafe_code)]

fn main() {
    std::process::exit(letterdrive::run(std::env::args_os()));
}
