//! The one place where files are memory-mapped.
//!
//! Layers read their features straight from the map, so a tile costs no
//! copy of the file and the page cache is shared by every request.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

/// A read-only memory map of a whole file.
#[derive(Debug)]
pub struct MappedFile {
    map: Mmap,
}

impl MappedFile {
    /// Maps `path` read-only.
    ///
    /// # Safety argument
    ///
    /// A memory map is only sound while nobody changes the file. The
    /// mapping is private and read-only, so this process never writes
    /// it; but another process may. What happens then:
    ///
    /// - The file is *replaced* (written elsewhere and renamed over, which
    ///   is how `plantiles import` and `generate` write): the map keeps
    ///   the old inode alive and goes on reading the old bytes. Safe.
    /// - The file is *modified in place*: readers may see a mix of old
    ///   and new bytes. Every read from the map is bounds-checked
    ///   (features through `FeatureView`), so mixed bytes give a decode
    ///   error for that feature, never undefined behaviour in Rust terms
    ///   beyond what the OS does below.
    /// - The file is *truncated*: reading a page past the new end raises
    ///   SIGBUS and the process dies. This cannot be caught safely; the
    ///   operational rule is "replace data files, never edit them in
    ///   place", and the README says so.
    ///
    /// Under that rule the bytes behind the returned slice are immutable
    /// for the life of the map, which is what `Deref<Target = [u8]>`
    /// promises.
    pub fn open(path: &Path) -> io::Result<MappedFile> {
        let file = File::open(path)?;
        // SAFETY: read-only private map; see the safety argument above for
        // what a concurrent change to the file can do and the rule that
        // prevents it.
        let map = unsafe { Mmap::map(&file)? };
        Ok(MappedFile { map })
    }
}

impl MappedFile {
    /// Tells the kernel that reads of `range` will be scattered
    /// (`random`: read only the page asked for, no read-ahead) or
    /// sequential enough for the default read-ahead. A hint: failures
    /// are ignored.
    pub fn expect_random_reads(&self, range: std::ops::Range<usize>, random: bool) {
        #[cfg(unix)]
        {
            use memmap2::Advice;
            let advice = if random {
                Advice::Random
            } else {
                Advice::Normal
            };
            // The kernel wants a page-aligned start.
            let start = range.start - range.start % 4096;
            let _ = self
                .map
                .advise_range(advice, start, range.end.saturating_sub(start));
        }
        #[cfg(not(unix))]
        let _ = (range, random);
    }
}

impl Deref for MappedFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}
