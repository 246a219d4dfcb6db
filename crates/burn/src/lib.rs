//! Writing images to block devices (USB sticks, SD cards) safely: which devices exist, which
//! may be written, and a parallel, verified write.
