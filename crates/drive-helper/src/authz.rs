//! Who may do what: a caller owns the devices named for its uid (`spindle_u<uid>_d<N>`);
//! root may name any. The index is capped, which caps the devices per user.

use spindle_tcmu::DeviceSpec;

/// The largest `dev_size` a caller may ask for (256 GiB: more than any optical medium).
pub const MAX_SIZE: u64 = 256 << 30;

/// The limits the helper enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Device indexes run from 0 to this, exclusive: at most this many devices per user.
    pub per_user: u32,
}

/// The uid the kernel shows for a uid that has no mapping in the reader's namespace
/// (`/proc/sys/kernel/overflowuid`, 65534 when unreadable): many unrelated callers share it.
pub fn overflow_uid() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/overflowuid")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(65534)
}

/// Checks that `caller` may touch device `name`; the reason when not.
pub fn may_use(caller: u32, name: &str, limits: Limits) -> Result<(), String> {
    if caller == overflow_uid() {
        return Err(format!(
            "refused: uid {caller} is the overflow uid (callers from other user namespaces share it)"
        ));
    }
    let (owner, index) = DeviceSpec::parse_name(name).map_err(|e| e.to_string())?;
    if caller != 0 && owner != caller {
        return Err(format!(
            "refused: {name} belongs to uid {owner}, not to uid {caller}"
        ));
    }
    if index >= limits.per_user {
        return Err(format!(
            "refused: {name}: at most {} drives per user (indexes 0 to {})",
            limits.per_user,
            limits.per_user - 1
        ));
    }
    Ok(())
}

/// Checks a requested backstore size.
pub fn size_ok(size: u64) -> Result<(), String> {
    if size == 0 || size > MAX_SIZE {
        return Err(format!(
            "refused: size {size} is not between 1 and {MAX_SIZE} bytes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits { per_user: 8 };

    #[test]
    fn callers_own_their_uid_and_root_owns_all() {
        assert!(may_use(1000, "spindle_u1000_d0", L).is_ok());
        assert!(may_use(1000, "spindle_u1000_d7", L).is_ok());
        let e = may_use(1001, "spindle_u1000_d0", L).unwrap_err();
        assert!(e.contains("belongs to uid 1000"), "{e}");
        assert!(may_use(0, "spindle_u1000_d3", L).is_ok());
        assert!(
            may_use(1000, "spindle_u1000_d8", L)
                .unwrap_err()
                .contains("at most 8")
        );
        assert!(may_use(1000, "spindle_u1000_d1/../x", L).is_err());
        assert!(may_use(1000, "other", L).is_err());
        let o = overflow_uid();
        let e = may_use(o, &DeviceSpec::name_for(o, 0), L).unwrap_err();
        assert!(e.contains("overflow uid"), "{e}");
        assert!(size_ok(700 << 20).is_ok());
        assert!(size_ok(0).is_err() && size_ok(MAX_SIZE + 1).is_err());
    }
}
