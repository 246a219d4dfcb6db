//! Caps that keep hostile images from taking unbounded time or memory.

/// Most extents one file may have (all allocation extent descriptors together).
pub(crate) const MAX_EXTENTS: usize = 1 << 20;
/// Most allocation extent descriptors followed for one file.
pub(crate) const MAX_AED_HOPS: usize = 1 << 16;
/// Most bytes read for a directory, a symbolic link target or a VAT.
pub(crate) const MAX_DIR_BYTES: u64 = 64 << 20;
pub(crate) const MAX_LINK_BYTES: u64 = 64 << 10;
pub(crate) const MAX_VAT_BYTES: u64 = 64 << 20;
/// Most ICB entries followed through indirect entries (strategy 4096 chains).
pub(crate) const MAX_ICB_HOPS: usize = 1024;
/// Deepest directory nesting accepted (each directory's depth is recorded with its parent;
/// `spindle_fs::MAX_DEPTH`, 2048, bounds walks and paths before this).
pub(crate) const MAX_DEPTH: usize = 4096;
/// Most sectors of a volume descriptor sequence read (with its continuations).
pub(crate) const MAX_VDS_SECTORS: u64 = 1024;
/// Cached nodes; the cache is emptied when it grows past this.
pub(crate) const CACHE_LIMIT: usize = 1 << 16;
/// Cached extents of all cached nodes together (about 32 bytes each); likewise.
pub(crate) const INODE_CACHE_WEIGHT: usize = 1 << 21;
/// Cached directory entries (all directories together); likewise.
pub(crate) const DIR_CACHE_ENTRIES: usize = 1 << 20;
/// How many sectors from the end of the image are searched for the VAT's file entry.
pub(crate) const VAT_SEARCH: u64 = 512;
/// How many file entries found there are tried as the VAT.
pub(crate) const VAT_CANDIDATES: usize = 8;
