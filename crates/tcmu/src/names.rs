//! Device names and specifications: every device spindle makes is `spindle_u<uid>_d<index>`,
//! so the owner is in the name (the privileged helper checks it) and a restarted daemon finds
//! its own devices by prefix.

use crate::error::{Error, Result};

/// The prefix of every device name.
pub const PREFIX: &str = "spindle_u";

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The device's name (`spindle_u<uid>_d<index>`).
    pub name: String,
    /// The backstore's size in bytes (`dev_size`; the handler answers READ CAPACITY itself,
    /// so this only bounds what the kernel's own code assumes).
    pub size: u64,
}

/// The default backstore size: a 128 GB BD-XL, the largest optical medium.
pub const DEFAULT_SIZE: u64 = 128_001_769_472;

impl DeviceSpec {
    /// The spec of drive `index` of user `uid`, with [`DEFAULT_SIZE`].
    pub fn for_user(uid: u32, index: u32) -> DeviceSpec {
        DeviceSpec {
            name: DeviceSpec::name_for(uid, index),
            size: DEFAULT_SIZE,
        }
    }

    /// `spindle_u<uid>_d<index>`.
    pub fn name_for(uid: u32, index: u32) -> String {
        format!("{PREFIX}{uid}_d{index}")
    }

    /// The prefix of every device of user `uid` (`spindle_u<uid>_`).
    pub fn user_prefix(uid: u32) -> String {
        format!("{PREFIX}{uid}_")
    }

    /// The uid and index in a device name, or an error naming it.
    pub fn parse_name(name: &str) -> Result<(u32, u32)> {
        let bad = || Error::BadName(name.to_string());
        let rest = name.strip_prefix(PREFIX).ok_or_else(bad)?;
        let (uid, index) = rest.split_once("_d").ok_or_else(bad)?;
        let num = |s: &str| -> Result<u32> {
            if s.is_empty()
                || !s.bytes().all(|b| b.is_ascii_digit())
                || (s.len() > 1 && s.starts_with('0'))
            {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        Ok((num(uid)?, num(index)?))
    }

    /// Checks that `name` is a well-formed device name (nothing a path could abuse).
    pub fn check_name(name: &str) -> Result<()> {
        DeviceSpec::parse_name(name).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_the_rest() {
        let n = DeviceSpec::name_for(1000, 3);
        assert_eq!(n, "spindle_u1000_d3");
        assert_eq!(DeviceSpec::parse_name(&n).unwrap(), (1000, 3));
        for bad in [
            "",
            "spindle_u",
            "spindle_u1_d",
            "spindle_u_d1",
            "spindle_u1_d1/..",
            "x_u1_d1",
            "spindle_u01_d1",
            "spindle_u1_d99999999999",
            "spindle_u1_d-1",
            "spindle_u1_d1 ",
        ] {
            assert!(DeviceSpec::parse_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(DeviceSpec::user_prefix(5).starts_with(PREFIX));
    }
}
