//! The process heap during training.
//!
//! A training step allocates and frees the same large tensors (megabytes each) every time.
//! glibc's allocator hands blocks that large to the kernel (mmap, then munmap on free) and trims
//! the heap's free top, so every step page-faults fresh zeroed pages: a tenth of an M2 step on
//! the CPU, and 962,000 page faults in fifty steps. Raising its thresholds keeps freed blocks in
//! the heap for the next step (21,000 page faults). Peak memory is unchanged; what is freed is
//! kept until the process exits.
//!
//! Threads other than the main one allocate from extra arenas whose heaps are at most 64 MiB:
//! with a step's parts on two threads and 100 classes (25 MiB tensors) those heaps were created
//! and unmapped again and again (524,000-894,000 page faults in fifteen steps, and the kernel's
//! TLB shootdowns on every unmap). One arena for all threads keeps them too (123,000); the
//! allocations are large and few, so the shared lock costs nothing measurable.

/// Keep freed blocks of up to 256 MiB in the heap, do not trim it below 1 GiB of free space, and
/// allocate from one arena on every thread.
/// Call once at start-up, before threads are spawned. Elsewhere than glibc it does nothing.
pub fn keep_freed_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's thresholds; it is called before other threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
