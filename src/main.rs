//! The `latentlab` binary: the studio, or a headless command (see `latentlab --help`).

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    latentlab::cli::main()
}

/// Training allocates and frees the same large buffers (activations, im2col tiles, gradients)
/// every step. glibc's defaults hand big blocks back to the system with `munmap`/trim and
/// fault them in again, zeroed, on the next step; the conv model spent about a tenth of its
/// time in page faults. Serve blocks up to 32 MiB from the heap and keep up to 512 MiB of
/// freed heap: conv training about +25 % (bench/NOTES.md). A missing setting only costs speed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::os::raw::c_int;
    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    // SAFETY: mallopt only changes allocator tuning; it is called before any other thread
    // exists, and a rejected value leaves the default in place.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
