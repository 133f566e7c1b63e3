//! The memory allocator. mimalloc spends about a fifth less CPU per letter than the system
//! allocator (small strings and JSON values are made and dropped for every row), but by default it
//! commits its arena eagerly and keeps freed pages for a second, which costs 10 MiB or more of
//! resident memory. The two options below keep peak RSS where the system allocator had it.
//! Freed pages go back to the system after 100 ms: after 10 ms, as before, a run spent about a
//! twentieth of its time giving pages back (madvise, and the TLB flushes it sends to the other
//! core) and faulting them in again; 1 s took peak RSS past 20 MiB at a million letters.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Option numbers from mimalloc 3's `mimalloc.h` (`mi_option_e`); the crate version is pinned in
/// Cargo.toml because these are positions in a C enum.
const ARENA_EAGER_COMMIT: i32 = 4;
const PURGE_DELAY: i32 = 15;

/// Options only take effect before the first arena is reserved, which happens at the first
/// allocation, before `main`. An ELF constructor runs earlier than Rust's runtime allocates
/// (mimalloc's own constructor runs before it, but reserves no arena). Setting the options
/// overrides `MIMALLOC_ARENA_EAGER_COMMIT` and `MIMALLOC_PURGE_DELAY` from the environment: by
/// the time this runs mimalloc has read them, so `mi_option_set_default` would change nothing.
/// The allocator is set in the library, not the binary, so that benchmarks and tests measure
/// what users run.
extern "C" fn configure() {
    // SAFETY: setting an option only stores an integer in mimalloc's option table.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 100);
    }
}

/// Freed pages go back after 10 ms from now on. A PDF per letter allocates and frees buffers of
/// hundreds of kilobytes (the font subset, the compressed page); kept for 100 ms, they took peak
/// RSS from 15.7 to 21.8 MiB for 10,000 PDFs, where mbox and `.eml` letters, whose buffers are a
/// few kilobytes, gain from reusing pages instead.
pub(crate) fn return_pages_promptly() {
    // SAFETY: as in `configure`; mimalloc reads the option each time it considers a purge.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 10);
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[link_section = ".init_array"]
static CONFIGURE: extern "C" fn() = configure;

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn options_are_set_before_main() {
        // SAFETY: reading an option has no side effect beyond initialising the option table.
        unsafe {
            assert_eq!(libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT), 0);
            // 10 once a PDF was rendered in this test binary (`return_pages_promptly`).
            assert!([10, 100].contains(&libmimalloc_sys::mi_option_get(PURGE_DELAY)));
        }
    }
}
